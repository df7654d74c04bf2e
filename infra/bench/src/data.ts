/**
 * The synthetic province: per county one registry CSV in the import template's layout, generated
 * deterministically (seeded by the county code) from the CLI's synthetic registry, so every run of the
 * same size uploads byte-identical files.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { csvLine, SYNTHETIC_HEADERS, syntheticRows } from '../../../apps/cli/src/synthetic.ts';
import { prng } from './lib.ts';

const BANKS = ['湖北农商银行', '中国邮政储蓄银行', '中国农业银行', '中国工商银行'];
/** Most resettlers have an account on record; the synthetic rows give one to every head and 30% of the others. */
const ACCOUNT_SHARE_OF_THE_REST = 0.8;

export interface CountyFile {
  county: number;
  path: string;
  rows: number;
  households: number;
  withAccount: number;
  bytes: number;
}

/** Reservoirs of 湖北省 the resettlers were moved for. */
const RESERVOIRS = ['三峡水库', '丹江口水库', '隔河岩水库', '高坝洲水库', '漳河水库', '陆水水库'];

export async function writeCountyCsv(
  dir: string,
  county: number,
  villages: readonly number[],
  persons: number,
): Promise<CountyFile> {
  // syntheticRows gives 1–6 persons per household, 3.5 on average.
  const households = Math.max(1, Math.round(persons / 3.5));
  const random = prng(county * 31 + 7);
  const path = join(dir, `${county}.csv`);
  const out = createWriteStream(path, { encoding: 'utf8' });
  let bytes = 0;
  const write = async (line: string) => {
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  };
  await write(csvLine(SYNTHETIC_HEADERS));
  let rows = 0;
  let withAccount = 0;
  for (const row of syntheticRows({ county, villages, households, seed: county, reservoirs: RESERVOIRS })) {
    if (!row.银行账号 && random() < ACCOUNT_SHARE_OF_THE_REST) {
      row.开户银行 = BANKS[Math.floor(random() * BANKS.length)] as string;
      row.银行账号 = `62${String(Math.floor(random() * 1e9)).padStart(9, '0')}${String(Math.floor(random() * 1e8)).padStart(8, '0')}`;
    }
    if (row.银行账号) withAccount += 1;
    await write(csvLine(SYNTHETIC_HEADERS.map((h) => row[h])));
    rows += 1;
  }
  out.end();
  await once(out, 'finish');
  // Readable by the PostgreSQL server process for the server-side COPY baseline.
  await chmod(path, 0o644);
  return { county, path, rows, households, withAccount, bytes };
}
