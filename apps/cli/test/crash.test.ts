/**
 * Crash test on PostgreSQL (RELIABILITY.md "Crashes and faults"): the real server process is killed
 * with SIGKILL at ten or more points of a registry import, restarted each time, and the import still
 * ends with every acknowledged row applied exactly once. Runs only with DATABASE_URL (CI runs it).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvLine, SYNTHETIC_HEADERS, syntheticRows } from '../src/synthetic.js';

const exec = promisify(execFile);
const cliDir = join(import.meta.dirname, '..');
const bin = join(cliDir, 'dist', 'houfu.mjs');
const DATABASE_URL = process.env.DATABASE_URL;
/** 秭归县: its townships come from the dictionary; persons are counted by this import only. */
const COUNTY = 420527;
const KILLS = 10;

let dataDir: string;
let env: NodeJS.ProcessEnv;
let sql: postgres.Sql;
let server: ChildProcess | undefined;
const port = 20_000 + Math.floor(Math.random() * 20_000);
const base = `http://127.0.0.1:${port}`;

async function houfu(...args: string[]) {
  return exec(process.execPath, [bin, ...args], { env });
}

async function startServer(): Promise<void> {
  server = spawn(process.execPath, [bin, 'serve'], { env, stdio: 'ignore' });
  for (let i = 0; i < 200; i += 1) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the server did not start');
}

async function kill(): Promise<void> {
  const child = server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const job = async (id: string) =>
  (
    await sql<{ status: string; phase: string | null; attempts: number; progress_done: string }[]>`
      SELECT status, phase, attempts, progress_done FROM jobs WHERE id = ${id}`
  )[0];

beforeAll(async () => {
  if (!DATABASE_URL) return;
  await exec(process.execPath, ['build.mjs'], { cwd: cliDir });
  dataDir = await mkdtemp(join(tmpdir(), 'houfu-crash-'));
  env = {
    ...process.env,
    HOUFU_DATA_DIR: dataDir,
    HOUFU_DATA_KEY: randomBytes(32).toString('base64'),
    PORT: String(port),
    LOG_LEVEL: 'silent',
    HOUFU_JOB_LEASE_MS: '1000',
    HOUFU_JOB_POLL_MS: '100',
    HOUFU_JOB_MAX_ATTEMPTS: String(KILLS + 5),
  };
  sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  await houfu('migrate');
  await houfu('localities', '--county', String(COUNTY));
}, 120_000);

afterAll(async () => {
  await kill();
  await sql?.end();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe.runIf(DATABASE_URL)('SIGKILL during an import (PostgreSQL)', () => {
  it(`killed at ${KILLS} points and restarted, the import applies every row exactly once`, async () => {
    const villages = (
      await sql<{ code: string }[]>`
        SELECT code FROM localities WHERE division_code = ${COUNTY} AND level = 'village' LIMIT 30`
    ).map((v) => Number(v.code));
    expect(villages.length).toBeGreaterThan(0);
    let csv = csvLine(SYNTHETIC_HEADERS);
    let rows = 0;
    for (const r of syntheticRows({ county: COUNTY, villages, households: 20_000, seed: Date.now() % 1e9 })) {
      // Household numbers of this run only (a developer's database may hold earlier runs).
      csv += csvLine(SYNTHETIC_HEADERS.map((h) => (h === '户编号' ? `K${port}-${r[h]}` : r[h])));
      rows += 1;
    }
    const token = (
      await houfu('token', '--division', String(COUNTY), '--role', 'county_operator')
    ).stdout.trim();

    await startServer();
    const res = await fetch(`${base}/v1/imports`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'text/csv',
        'idempotency-key': `crash-${port}`,
      },
      body: csv,
    });
    expect(res.status).toBe(202);
    const created = (await res.json()) as { id: string; job: { id: string } };

    // Kill the server a short random time after each claim, until the job has been cut KILLS times.
    const points: string[] = [];
    let claimed = 0;
    while (points.length < KILLS) {
      // Wait for the next claim (the first one follows the upload at once), then kill shortly after.
      for (let i = 0; i < 400 && ((await job(created.job.id))?.attempts ?? 0) <= claimed; i += 1) {
        await new Promise((r) => setTimeout(r, 20));
      }
      // …let it commit at least one more step (a new checkpoint), then kill it a moment later.
      const start = (await job(created.job.id))?.progress_done;
      for (let i = 0; i < 150 && (await job(created.job.id))?.progress_done === start; i += 1) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 150)));
      const at = await job(created.job.id);
      expect(at?.status, `the job finished after only ${points.length} kills`).toBe('running');
      await kill();
      claimed = at?.attempts ?? claimed + 1;
      points.push(`${at?.phase}:${at?.progress_done}`);
      await startServer();
    }

    // The last run finishes it.
    for (let i = 0; i < 1200 && (await job(created.job.id))?.status === 'running'; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await kill();
    const done = await job(created.job.id);
    expect(done?.status, `kill points: ${points.join(', ')}`).toBe('succeeded');

    const [imp] = await sql<{ status: string; rows_total: number; rows_accepted: number }[]>`
      SELECT status, rows_total, rows_accepted FROM imports WHERE id = ${created.id}`;
    expect(imp).toMatchObject({ status: 'completed', rows_total: rows });
    const [persons] = await sql<{ n: number; distinct_ids: number }[]>`
      SELECT count(*)::int AS n, count(DISTINCT id_hash)::int AS distinct_ids
      FROM persons WHERE division_code = ${COUNTY} AND import_id = ${created.id}`;
    // Every accepted row once: no duplicate, none lost (the synthetic rows are all valid).
    expect(imp?.rows_accepted).toBe(rows);
    expect(persons).toEqual({ n: rows, distinct_ids: rows });
    const [audits] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM audit_events
      WHERE division_code = ${COUNTY} AND action = 'import.apply' AND entity_id = ${created.id}`;
    expect(audits?.n).toBe(1);
    const [chunks] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM upload_chunks u JOIN imports i
        ON i.division_code = u.division_code AND i.upload_id = u.upload_id
      WHERE i.id = ${created.id}`;
    expect(chunks?.n).toBe(0);
    // The kills fell at different points of the work, each after a new checkpoint.
    expect(new Set(points).size, points.join(', ')).toBeGreaterThanOrEqual(2);
  }, 240_000);
});
