/**
 * Registry import 移民名单导入: the column layout of an import file and the validation of one row.
 *
 * Pure: no I/O, no clock (`today` is passed in as ISO `YYYY-MM-DD`). Reading the file (CSV or XLSX),
 * sealing the personal numbers and the checks that need the database (duplicates in the file, already
 * registered, unknown village, household consistency) belong to the API's import job; the codes of
 * those checks are listed here too so that the report has one vocabulary.
 */

import { countyOfLocality, isLocalityCode } from './divisions.js';
import { isCalendarDate, isoDate } from './internal/calendar.js';
import { type NationalIdError, parseNationalId, scrubSensitive } from './national-id.js';
import {
  type Relationship,
  type RelocateeKind,
  relationshipLabels,
  relationships,
  relocateeKindLabels,
  relocateeKinds,
} from './registry.js';

/* ------------------------------------------------------------------------ */
/* Column layout                                                             */
/* ------------------------------------------------------------------------ */

/** One column of an import file. */
export interface ImportColumn {
  key: ImportColumnKey;
  /** The header text in the file's first row (exact, after trimming). */
  header: string;
  required: boolean;
  /** What the column holds, in Chinese, for the template's 说明 sheet and the documentation. */
  description: string;
}

export const importColumnKeys = [
  'household_no',
  'relationship',
  'name',
  'national_id',
  'sex',
  'birth_date',
  'reservoir',
  'relocation_date',
  'relocatee_kind',
  'village_code',
  'bank_name',
  'bank_account',
] as const;
export type ImportColumnKey = (typeof importColumnKeys)[number];

/** Earliest accepted relocation date: the founding of the PRC (reservoir resettlement since 1949). */
export const EARLIEST_RELOCATION_DATE = '1949-10-01';
/** Longest accepted 户编号 / 姓名 / 水库名称 / 开户银行. */
export const IMPORT_TEXT_LIMITS = { household_no: 40, name: 50, reservoir: 100, bank_name: 100 } as const;

const rel = (r: Relationship) => relationshipLabels[r];

/** The columns, in template order. Header matching is exact (after trimming); column order is free. */
export const importColumns: readonly ImportColumn[] = Object.freeze([
  {
    key: 'household_no',
    header: '户编号',
    required: true,
    description: '户编号，县内唯一，最长40字；同一户的各行填写相同的户编号。已登记的户沿用原编号。',
  },
  {
    key: 'relationship',
    header: '与户主关系',
    required: true,
    description: `与户主关系：${relationships.map(rel).join('、')}（也接受本人、妻子、儿子、女儿等常见写法）。每户至多一名户主。`,
  },
  { key: 'name', header: '姓名', required: true, description: '姓名，最长50字。' },
  {
    key: 'national_id',
    header: '身份证号',
    required: true,
    description: '18位居民身份证号码（末位可为X），请设为文本格式，以免Excel把长数字改写。',
  },
  {
    key: 'sex',
    header: '性别',
    required: false,
    description: '男或女；可不填（由身份证号推出），填写时须与身份证号一致。',
  },
  {
    key: 'birth_date',
    header: '出生日期',
    required: false,
    description: '可不填（由身份证号推出），填写时须与身份证号一致。',
  },
  { key: 'reservoir', header: '水库名称', required: true, description: '因之搬迁的水库名称，最长100字。' },
  {
    key: 'relocation_date',
    header: '搬迁日期',
    required: true,
    description: `搬迁完成日期：YYYY-MM-DD，也接受 YYYY/M/D、YYYY年M月D日、YYYYMMDD 和 Excel 日期单元格；不早于${EARLIEST_RELOCATION_DATE}，不晚于导入当天，不早于出生日期。`,
  },
  {
    key: 'relocatee_kind',
    header: '移民类别',
    required: true,
    description: `${relocateeKinds.map((k) => relocateeKindLabels[k]).join('或')}。`,
  },
  {
    key: 'village_code',
    header: '安置村代码',
    required: true,
    description: '安置村的12位统计用区划代码，须为本县在用的村（社区）。',
  },
  {
    key: 'bank_name',
    header: '开户银行',
    required: false,
    description: '开户银行名称，最长100字；与银行账号同时填写或同时不填。',
  },
  {
    key: 'bank_account',
    header: '银行账号',
    required: false,
    description: '银行账号或一卡通卡号，8–30位数字（空格会被去掉）；请设为文本格式。',
  },
] satisfies ImportColumn[]);

/** Where each column sits in the file (0-based), or -1 when an optional column is absent. */
export type ImportLayout = Readonly<Record<ImportColumnKey, number>>;

export type HeaderResult =
  | { ok: true; layout: ImportLayout }
  | {
      ok: false;
      missing: string[];
      /** The cells that are no template header, as written: may be data (never show them whole). */
      unknown: string[];
      duplicate: string[];
      /** How many template headers the row holds (0: the row is most likely data, not a header). */
      recognised: number;
    };

/** A cell as read from CSV (always text) or XLSX (text, number, boolean or date). */
export type ImportCell = string | number | boolean | Date | null | undefined;

function cellText(cell: ImportCell): string {
  if (cell === null || cell === undefined) return '';
  if (cell instanceof Date) return Number.isNaN(cell.getTime()) ? '' : cell.toISOString().slice(0, 10);
  return String(cell).trim();
}

/**
 * Maps the header row to the layout. Every required column must be present, every non-empty header
 * must be one of {@link importColumns} and none may repeat; otherwise the file is refused as a whole,
 * naming the headers. Empty header cells (trailing blank columns) are ignored.
 */
export function resolveImportHeader(cells: readonly ImportCell[]): HeaderResult {
  const byHeader = new Map(importColumns.map((c) => [c.header, c.key]));
  const layout = Object.fromEntries(importColumnKeys.map((k) => [k, -1])) as Record<ImportColumnKey, number>;
  const unknown: string[] = [];
  const duplicate: string[] = [];
  cells.forEach((cell, index) => {
    const text = cellText(cell).replace(/^\uFEFF/, '');
    if (text === '') return;
    const key = byHeader.get(text);
    if (key === undefined) unknown.push(text);
    else if (layout[key] !== -1) duplicate.push(text);
    else layout[key] = index;
  });
  const missing = importColumns.filter((c) => c.required && layout[c.key] === -1).map((c) => c.header);
  if (missing.length > 0 || unknown.length > 0 || duplicate.length > 0) {
    const recognised = importColumnKeys.filter((k) => layout[k] !== -1).length;
    return { ok: false, missing, unknown, duplicate, recognised };
  }
  return { ok: true, layout: Object.freeze(layout) };
}

/** Longest excerpt of an unknown header cell that a header problem quotes (characters). */
export const HEADER_EXCERPT_LENGTH = 12;

/** A short, masked excerpt of a cell: ID and account numbers scrubbed first, then cut. */
function excerpt(text: string): string {
  const chars = [...scrubSensitive(text)];
  return chars.length > HEADER_EXCERPT_LENGTH
    ? `${chars.slice(0, HEADER_EXCERPT_LENGTH).join('')}…`
    : chars.join('');
}

/**
 * Explains a refused header row in one sentence (the job's error message, shown by the API). The
 * first row may be data rather than a header, so its cells are never echoed: the message names the
 * expected headers that are missing and counts the unknown cells, quoting at most one short, masked
 * excerpt — and none at all when no cell is a template header (the row is most likely data).
 */
export function describeHeaderProblem(result: Extract<HeaderResult, { ok: false }>): string {
  const parts: string[] = [];
  const recognised = result.recognised > 0;
  if (!recognised && result.unknown.length > 0) parts.push('第一行不是表头（未找到任何模板列名）');
  if (result.missing.length > 0) parts.push(`缺少必填列: ${result.missing.join('、')}`);
  if (result.unknown.length > 0) {
    const first = result.unknown[0] as string;
    parts.push(
      recognised
        ? `无法识别的列 ${result.unknown.length} 个，如「${excerpt(first)}」`
        : `无法识别的列 ${result.unknown.length} 个`,
    );
  }
  if (result.duplicate.length > 0) parts.push(`重复的列: ${result.duplicate.join('、')}`);
  return `表头不符合导入模板（${parts.join('；')}）。`;
}

/** True when every cell of a row is empty (such rows are skipped, not reported). */
export function isBlankImportRow(cells: readonly ImportCell[]): boolean {
  return cells.every((c) => cellText(c) === '');
}

/* ------------------------------------------------------------------------ */
/* Issues                                                                    */
/* ------------------------------------------------------------------------ */

/** Why a row was rejected. Stable codes: the report shows them with their Chinese label. */
export const importErrorCodes = [
  'household_no_missing',
  'household_no_too_long',
  'household_no_invalid',
  'relationship_missing',
  'relationship_invalid',
  'name_missing',
  'name_too_long',
  'name_invalid',
  'id_missing',
  'id_not_text',
  'id_length',
  'id_format',
  'id_address',
  'id_birth_date',
  'id_future_birth_date',
  'id_checksum',
  'sex_invalid',
  'sex_mismatch',
  'birth_date_invalid',
  'birth_date_mismatch',
  'reservoir_missing',
  'reservoir_too_long',
  'reservoir_invalid',
  'relocation_date_missing',
  'relocation_date_invalid',
  'relocation_date_too_early',
  'relocation_date_future',
  'relocation_before_birth',
  'relocatee_kind_missing',
  'relocatee_kind_invalid',
  'village_missing',
  'village_invalid',
  'village_other_county',
  'bank_name_too_long',
  'bank_name_invalid',
  'bank_account_invalid',
  'bank_incomplete',
  // Checked by the import job against the whole file and the registry:
  'duplicate_in_file',
  'already_registered',
  'village_unknown',
  'household_village_mismatch',
  'household_villages_differ',
  'household_multiple_heads',
] as const;
export type ImportErrorCode = (typeof importErrorCodes)[number];

/** Noted on a row that is imported all the same. */
export const importWarningCodes = ['household_without_head', 'registered_elsewhere'] as const;
export type ImportWarningCode = (typeof importWarningCodes)[number];

/** Chinese explanations of the error and warning codes (the report's 错误 and 警告 columns). */
export const importIssueLabels: Readonly<Record<ImportErrorCode | ImportWarningCode, string>> = Object.freeze(
  {
    household_no_missing: '户编号为空',
    household_no_too_long: `户编号超过${IMPORT_TEXT_LIMITS.household_no}字`,
    household_no_invalid: '户编号含控制字符',
    relationship_missing: '与户主关系为空',
    relationship_invalid: '与户主关系无法识别',
    name_missing: '姓名为空',
    name_too_long: `姓名超过${IMPORT_TEXT_LIMITS.name}字`,
    name_invalid: '姓名含控制字符',
    id_missing: '身份证号为空',
    id_not_text: '身份证号是数字单元格，Excel 已改写末几位，请设为文本格式',
    id_length: '身份证号不是18位',
    id_format: '身份证号应为17位数字加1位数字或X',
    id_address: '身份证号前6位不是行政区划代码',
    id_birth_date: '身份证号中的出生日期无效',
    id_future_birth_date: '身份证号中的出生日期晚于今天',
    id_checksum: '身份证号校验码错误',
    sex_invalid: '性别应为男或女',
    sex_mismatch: '性别与身份证号不符',
    birth_date_invalid: '出生日期无效',
    birth_date_mismatch: '出生日期与身份证号不符',
    reservoir_missing: '水库名称为空',
    reservoir_too_long: `水库名称超过${IMPORT_TEXT_LIMITS.reservoir}字`,
    reservoir_invalid: '水库名称含控制字符',
    relocation_date_missing: '搬迁日期为空',
    relocation_date_invalid: '搬迁日期无效',
    relocation_date_too_early: `搬迁日期早于${EARLIEST_RELOCATION_DATE}`,
    relocation_date_future: '搬迁日期晚于今天',
    relocation_before_birth: '搬迁日期早于出生日期',
    relocatee_kind_missing: '移民类别为空',
    relocatee_kind_invalid: '移民类别应为原迁移民或其他',
    village_missing: '安置村代码为空',
    village_invalid: '安置村代码不是12位村级统计代码',
    village_other_county: '安置村不属于本县',
    bank_name_too_long: `开户银行超过${IMPORT_TEXT_LIMITS.bank_name}字`,
    bank_name_invalid: '开户银行含控制字符',
    bank_account_invalid: '银行账号应为8–30位数字',
    bank_incomplete: '开户银行与银行账号须同时填写',
    duplicate_in_file: '身份证号在文件中重复（保留首次出现的行）',
    already_registered: '该身份证号已在本县登记',
    village_unknown: '安置村不是本县在用的村',
    household_village_mismatch: '该户已登记在另一个村',
    household_villages_differ: '同一户的各行安置村不一致',
    household_multiple_heads: '同一户有多名户主',
    household_without_head: '新建的户没有户主',
    registered_elsewhere: '该身份证号在其他县也有登记，已提交上级核查',
  },
);

/* ------------------------------------------------------------------------ */
/* Vocabulary aliases                                                        */
/* ------------------------------------------------------------------------ */

const relationshipAliases: ReadonlyMap<string, Relationship> = new Map<string, Relationship>([
  ...relationships.map((r) => [relationshipLabels[r], r] as const),
  ...relationships.map((r) => [r, r] as const),
  ...(
    [
      ['本人', 'head'],
      ['户主本人', 'head'],
      ['妻', 'spouse'],
      ['妻子', 'spouse'],
      ['夫', 'spouse'],
      ['丈夫', 'spouse'],
      ['子', 'child'],
      ['女', 'child'],
      ['儿子', 'child'],
      ['女儿', 'child'],
      ['长子', 'child'],
      ['次子', 'child'],
      ['长女', 'child'],
      ['次女', 'child'],
      ['养子', 'child'],
      ['养女', 'child'],
      ['儿媳', 'child_in_law'],
      ['女婿', 'child_in_law'],
      ['孙子', 'grandchild'],
      ['孙女', 'grandchild'],
      ['外孙子', 'grandchild'],
      ['外孙女', 'grandchild'],
      ['父亲', 'parent'],
      ['母亲', 'parent'],
      ['祖父', 'grandparent'],
      ['祖母', 'grandparent'],
      ['外祖父', 'grandparent'],
      ['外祖母', 'grandparent'],
      ['兄', 'sibling'],
      ['弟', 'sibling'],
      ['姐', 'sibling'],
      ['妹', 'sibling'],
      ['哥哥', 'sibling'],
      ['弟弟', 'sibling'],
      ['姐姐', 'sibling'],
      ['妹妹', 'sibling'],
    ] as const
  ).map(([k, v]) => [k, v] as const),
]);

const relocateeKindAliases: ReadonlyMap<string, RelocateeKind> = new Map<string, RelocateeKind>([
  ...relocateeKinds.map((k) => [relocateeKindLabels[k], k] as const),
  ...relocateeKinds.map((k) => [k, k] as const),
]);

const sexAliases: ReadonlyMap<string, 'male' | 'female'> = new Map([
  ['男', 'male'],
  ['女', 'female'],
  ['男性', 'male'],
  ['女性', 'female'],
  ['male', 'male'],
  ['female', 'female'],
]);

/* ------------------------------------------------------------------------ */
/* Row validation                                                            */
/* ------------------------------------------------------------------------ */

/** The values of one row, normalised; null where absent or invalid. */
export interface ImportRowValues {
  householdNo: string | null;
  relationship: Relationship | null;
  name: string | null;
  /** The normalised ID number, only when valid. */
  nationalId: string | null;
  /**
   * The ID cell as written (trimmed), when not empty: the import keeps only its masked form, so that
   * the report can point at a rejected row without showing the number.
   */
  nationalIdInput: string | null;
  sex: 'male' | 'female' | null;
  birthDate: string | null;
  reservoir: string | null;
  relocationDate: string | null;
  relocateeKind: RelocateeKind | null;
  villageCode: number | null;
  bankName: string | null;
  bankAccount: string | null;
}

export interface ImportRowResult {
  values: ImportRowValues;
  /** Empty when the row passed every rule that needs no database. */
  errors: ImportErrorCode[];
}

export interface ImportRowOptions {
  /** The importing county (six digits): the village must belong to it. */
  county: number;
  /** The import's date, ISO `YYYY-MM-DD`: no birth or relocation date after it. */
  today: string;
}

const UNPRINTABLE = /\p{Cc}|\p{Cs}/u;

/**
 * A date cell: an Excel date (a `Date` at UTC midnight), an 8-digit number `YYYYMMDD`, an Excel serial
 * day number (1900 date system), or text `YYYY-M-D`, `YYYY/M/D`, `YYYY.M.D`, `YYYY年M月D日`, `YYYYMMDD`,
 * optionally followed by a midnight time `00:00[:00]`. Returns ISO `YYYY-MM-DD` or null.
 */
export function parseImportDate(cell: ImportCell): string | null {
  if (cell === null || cell === undefined || typeof cell === 'boolean') return null;
  if (cell instanceof Date) {
    if (Number.isNaN(cell.getTime())) return null;
    return ymd(cell.getUTCFullYear(), cell.getUTCMonth() + 1, cell.getUTCDate());
  }
  if (typeof cell === 'number') {
    if (!Number.isInteger(cell)) return null;
    if (cell >= 10_000_101 && cell <= 99_991_231) return parseImportDate(String(cell));
    // Excel serial days: 1 = 1900-01-01 (Excel's phantom 1900-02-29 makes 1899-12-30 the epoch from 61 on).
    if (cell >= 61 && cell <= 2_958_465) {
      const d = new Date(Date.UTC(1899, 11, 30) + cell * 86_400_000);
      return ymd(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
    }
    return null;
  }
  const s = cell.trim().replace(/\s+0{1,2}:00(:00)?$/, '');
  const m =
    /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(s) ??
    /^(\d{4})年(\d{1,2})月(\d{1,2})日$/.exec(s) ??
    /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (!m) return null;
  return ymd(Number(m[1]), Number(m[2]), Number(m[3]));
}

function ymd(y: number, m: number, d: number): string | null {
  return isCalendarDate(y, m, d) ? isoDate(y, m, d) : null;
}

const idErrors: Record<NationalIdError, ImportErrorCode> = {
  length: 'id_length',
  format: 'id_format',
  address: 'id_address',
  birth_date: 'id_birth_date',
  future_birth_date: 'id_future_birth_date',
  checksum: 'id_checksum',
};

/** A code-like cell (ID, village, account) as text; numbers are written out without exponent. */
function codeText(cell: ImportCell): { text: string; imprecise: boolean } {
  if (typeof cell === 'number') {
    if (!Number.isSafeInteger(cell)) {
      return { text: Number.isFinite(cell) ? BigInt(Math.trunc(cell)).toString() : '', imprecise: true };
    }
    return { text: String(cell), imprecise: false };
  }
  return { text: cellText(cell), imprecise: false };
}

/**
 * Validates one data row against the rules that need no database: required cells, lengths,
 * vocabularies, the ID number (GB 11643: length, address, birth date, check digit), sex and birth
 * date against the ID, date formats and bounds, village code shape and county, bank account digits.
 * Collects every error of the row (not only the first), in column order.
 */
export function validateImportRow(
  cells: readonly ImportCell[],
  layout: ImportLayout,
  options: ImportRowOptions,
): ImportRowResult {
  const errors: ImportErrorCode[] = [];
  const cell = (key: ImportColumnKey): ImportCell => {
    const i = layout[key];
    return i < 0 ? undefined : cells[i];
  };
  const text = (key: ImportColumnKey) => cellText(cell(key));
  const values: ImportRowValues = {
    householdNo: null,
    relationship: null,
    name: null,
    nationalId: null,
    nationalIdInput: null,
    sex: null,
    birthDate: null,
    reservoir: null,
    relocationDate: null,
    relocateeKind: null,
    villageCode: null,
    bankName: null,
    bankAccount: null,
  };

  const boundedText = (
    key: 'household_no' | 'name' | 'reservoir' | 'bank_name',
    required: boolean,
  ): string | null => {
    const raw = key === 'household_no' ? codeText(cell(key)).text : text(key);
    if (raw === '') {
      if (required) errors.push(`${key}_missing` as ImportErrorCode);
      return null;
    }
    if ([...raw].length > IMPORT_TEXT_LIMITS[key]) {
      errors.push(`${key}_too_long` as ImportErrorCode);
      return null;
    }
    if (UNPRINTABLE.test(raw)) {
      errors.push(`${key}_invalid` as ImportErrorCode);
      return null;
    }
    return raw;
  };

  values.householdNo = boundedText('household_no', true);

  const relationship = text('relationship');
  if (relationship === '') errors.push('relationship_missing');
  else {
    values.relationship = relationshipAliases.get(relationship) ?? null;
    if (values.relationship === null) errors.push('relationship_invalid');
  }

  // The name is kept even when too long (cut), so that the report can show which row it was.
  const name = text('name');
  values.name = boundedText('name', true);
  if (values.name === null && name !== '') values.name = [...name].slice(0, IMPORT_TEXT_LIMITS.name).join('');

  const id = codeText(cell('national_id'));
  let fromId: { sex: 'male' | 'female'; birthDate: string } | null = null;
  if (id.text === '') errors.push('id_missing');
  else {
    values.nationalIdInput = id.text;
    if (id.imprecise) errors.push('id_not_text');
    else {
      const parsed = parseNationalId(id.text, options.today);
      if (parsed.ok) {
        values.nationalId = parsed.value;
        fromId = { sex: parsed.sex, birthDate: parsed.birthDate };
      } else errors.push(idErrors[parsed.error]);
    }
  }

  const sex = text('sex');
  if (sex !== '') {
    const claimed = sexAliases.get(sex);
    if (claimed === undefined) errors.push('sex_invalid');
    else if (fromId && claimed !== fromId.sex) errors.push('sex_mismatch');
  }
  const birthCell = cell('birth_date');
  if (cellText(birthCell) !== '') {
    const claimed = parseImportDate(birthCell);
    if (claimed === null) errors.push('birth_date_invalid');
    else if (fromId && claimed !== fromId.birthDate) errors.push('birth_date_mismatch');
  }
  if (fromId) {
    values.sex = fromId.sex;
    values.birthDate = fromId.birthDate;
  }

  values.reservoir = boundedText('reservoir', true);

  const relocationCell = cell('relocation_date');
  if (cellText(relocationCell) === '') errors.push('relocation_date_missing');
  else {
    const date = parseImportDate(relocationCell);
    if (date === null) errors.push('relocation_date_invalid');
    else if (date < EARLIEST_RELOCATION_DATE) errors.push('relocation_date_too_early');
    else if (date > options.today) errors.push('relocation_date_future');
    else if (fromId && date < fromId.birthDate) errors.push('relocation_before_birth');
    else values.relocationDate = date;
  }

  const kind = text('relocatee_kind');
  if (kind === '') errors.push('relocatee_kind_missing');
  else {
    values.relocateeKind = relocateeKindAliases.get(kind) ?? null;
    if (values.relocateeKind === null) errors.push('relocatee_kind_invalid');
  }

  const village = codeText(cell('village_code')).text;
  if (village === '') errors.push('village_missing');
  else {
    const code = /^\d{12}$/.test(village) ? Number(village) : Number.NaN;
    if (!isLocalityCode(code) || code % 1000 === 0) errors.push('village_invalid');
    else if (countyOfLocality(code) !== options.county) errors.push('village_other_county');
    else values.villageCode = code;
  }

  const bankName = boundedText('bank_name', false);
  const accountCell = codeText(cell('bank_account'));
  const account = accountCell.text.replace(/[\s\u00a0]+/g, '');
  let accountOk = false;
  if (account !== '') {
    if (accountCell.imprecise || !/^\d{8,30}$/.test(account)) errors.push('bank_account_invalid');
    else accountOk = true;
  }
  const nameGiven = text('bank_name') !== '';
  if (nameGiven !== (account !== '')) errors.push('bank_incomplete');
  else if (accountOk && bankName !== null) {
    values.bankName = bankName;
    values.bankAccount = account;
  }

  return { values, errors };
}
