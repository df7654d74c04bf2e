import { checkDigit, relationshipLabels } from '@houfu/domain';

/**
 * Deterministic synthetic registry rows (demo data, benchmarks): households of one to six persons
 * with valid national ID numbers, in the import file's column layout. The same seed always gives
 * the same rows.
 */
export interface SyntheticRow {
  户编号: string;
  与户主关系: string;
  姓名: string;
  身份证号: string;
  水库名称: string;
  搬迁日期: string;
  移民类别: string;
  安置村代码: string;
  开户银行: string;
  银行账号: string;
}

export const SYNTHETIC_HEADERS: readonly (keyof SyntheticRow)[] = [
  '户编号',
  '与户主关系',
  '姓名',
  '身份证号',
  '水库名称',
  '搬迁日期',
  '移民类别',
  '安置村代码',
  '开户银行',
  '银行账号',
];

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰建国红梅志强春林德';
const BANKS = ['湖北农商银行', '中国邮政储蓄银行', '中国农业银行'];

/** mulberry32: a small, fast, seeded PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

function isoDay(random: () => number, fromYear: number, toYear: number): string {
  const from = Date.UTC(fromYear, 0, 1);
  const to = Date.UTC(toYear, 11, 31);
  return new Date(from + Math.floor(random() * ((to - from) / 86_400_000)) * 86_400_000)
    .toISOString()
    .slice(0, 10);
}

export interface SyntheticOptions {
  county: number;
  villages: readonly number[];
  /** Number of households. */
  households: number;
  seed?: number;
  /** Reservoirs the county's resettlers were moved for. */
  reservoirs?: readonly string[];
}

/** Households in order; every person's ID is unique within the county (sequence per birth date). */
export function* syntheticRows(options: SyntheticOptions): Generator<SyntheticRow> {
  if (options.villages.length === 0) throw new RangeError('no villages to settle households in');
  const random = prng(options.seed ?? options.county);
  const reservoirs = options.reservoirs ?? ['三峡水库'];
  const used = new Set<string>();
  const nationalId = (birth: string, male: boolean) => {
    for (;;) {
      const sequence = Math.floor(random() * 500) * 2 + (male ? 1 : 0);
      const first17 = `${options.county}${birth.replaceAll('-', '')}${pad(sequence, 3)}`;
      if (used.has(first17)) continue;
      used.add(first17);
      return first17 + checkDigit(first17);
    }
  };
  const name = () =>
    (SURNAMES[Math.floor(random() * SURNAMES.length)] ?? '王') +
    (GIVEN[Math.floor(random() * GIVEN.length)] ?? '伟') +
    (random() < 0.6 ? (GIVEN[Math.floor(random() * GIVEN.length)] ?? '') : '');
  for (let h = 1; h <= options.households; h += 1) {
    const village = options.villages[Math.floor(random() * options.villages.length)] as number;
    const reservoir = reservoirs[Math.floor(random() * reservoirs.length)] as string;
    const moved = isoDay(random, 1993, 2009);
    const kind = random() < 0.9 ? '原迁移民' : '其他';
    const size = 1 + Math.floor(random() * 6);
    const headYear = 1940 + Math.floor(random() * 40);
    for (let m = 0; m < size; m += 1) {
      const relationship = m === 0 ? 'head' : m === 1 ? 'spouse' : m < 5 ? 'child' : 'parent';
      const year =
        relationship === 'child'
          ? headYear + 20 + Math.floor(random() * 15)
          : relationship === 'parent'
            ? headYear - 25
            : headYear + Math.floor(random() * 4);
      const birth = isoDay(random, Math.min(year, 2005), Math.min(year, 2005));
      const male =
        relationship === 'head'
          ? random() < 0.85
          : relationship === 'spouse'
            ? random() < 0.15
            : random() < 0.5;
      const hasAccount = relationship === 'head' || random() < 0.3;
      yield {
        户编号: `${pad(options.county % 1000, 3)}${pad(h, 6)}`,
        与户主关系: relationshipLabels[relationship],
        姓名: name(),
        身份证号: nationalId(birth, male),
        水库名称: reservoir,
        // Children born after the move were "moved" at birth (ISO dates compare as strings).
        // biome-ignore lint/complexity/useMathMinMax: strings, not numbers
        搬迁日期: moved < birth ? birth : moved,
        移民类别: kind,
        安置村代码: String(village),
        开户银行: hasAccount ? (BANKS[Math.floor(random() * BANKS.length)] as string) : '',
        银行账号: hasAccount
          ? `62${pad(Math.floor(random() * 1e9), 9)}${pad(Math.floor(random() * 1e8), 8)}`
          : '',
      };
    }
  }
}

/** One CSV line (RFC 4180 quoting where needed). */
export function csvLine(values: readonly string[]): string {
  return `${values.map((v) => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(',')}\n`;
}
