/**
 * Crash tests on PostgreSQL (RELIABILITY.md "Crashes and faults"): the real server process is killed
 * with SIGKILL at ten or more points of a registry import, restarted each time, and the import still
 * ends with every acknowledged row applied exactly once; then at ten or more points of the payment
 * batch computed for those persons, which after every kill has no line at all, and in the end exactly
 * the lines due. Runs only with DATABASE_URL (CI runs it).
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

  it(`killed at ${KILLS} points while a payment batch is computed, it has no line or all of them`, async () => {
    const clerk = (
      await houfu('token', '--division', String(COUNTY), '--role', 'county_operator')
    ).stdout.trim();
    // A semi-annual period with no live batch yet (a developer's database may hold earlier runs).
    const used = new Set(
      (
        await sql<{ period: string }[]>`SELECT period FROM payment_batches WHERE division_code = ${COUNTY}
          AND kind = 'regular' AND status NOT IN ('cancelled', 'failed')`
      ).map((r) => r.period),
    );
    const period = ['2013-H1', '2013-H2', '2014-H1', '2014-H2', '2015-H1', '2015-H2'].find(
      (p) => !used.has(p),
    );
    expect(period).toBeDefined();
    const start = `${period?.slice(0, 4)}-${period?.endsWith('H1') ? '01' : '07'}-01`;

    await startServer();
    const res = await fetch(`${base}/v1/disbursements`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${clerk}`,
        'content-type': 'application/json',
        'idempotency-key': `crash-batch-${port}`,
      },
      body: JSON.stringify({ period }),
    });
    expect(res.status).toBe(202);
    const batch = (await res.json()) as { id: string; job: { id: string } };
    const lines = async () =>
      (
        await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM payment_lines WHERE batch_id = ${batch.id}`
      )[0]?.n;

    const points: number[] = [];
    let claimed = 0;
    while (points.length < KILLS) {
      for (let i = 0; i < 400 && ((await job(batch.job.id))?.attempts ?? 0) <= claimed; i += 1) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const delay = Math.floor(Math.random() * 200);
      await new Promise((r) => setTimeout(r, delay));
      const at = await job(batch.job.id);
      expect(at?.status, `the batch was computed after only ${points.length} kills`).toBe('running');
      await kill();
      claimed = at?.attempts ?? claimed + 1;
      points.push(delay);
      // Killed mid-computation: not one line, the batch still computing.
      expect(await lines()).toBe(0);
      const [b] = await sql<{ status: string }[]>`SELECT status FROM payment_batches WHERE id = ${batch.id}`;
      expect(b?.status).toBe('computing');
      await startServer();
    }
    for (let i = 0; i < 1200 && (await job(batch.job.id))?.status === 'running'; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await kill();
    expect((await job(batch.job.id))?.status, `kill points (ms): ${points.join(', ')}`).toBe('succeeded');

    // Exactly the lines due: every registered person with an account, registered by the period's
    // first day (the synthetic persons have no events and moved before 2010: all in their window).
    const [expected] = await sql<{ due: number; persons: number }[]>`
      SELECT count(*) FILTER (WHERE status = 'registered' AND bank_account_sealed IS NOT NULL
                                AND registered_on <= ${start}::date
                                AND NOT EXISTS (SELECT 1 FROM person_events e
                                                WHERE e.division_code = p.division_code AND e.person_id = p.id))::int AS due,
             count(*)::int AS persons
      FROM persons p WHERE division_code = ${COUNTY}`;
    const [done] = await sql<
      { status: string; line_count: number; total_fen: string; excluded_count: number }[]
    >`
      SELECT status, line_count, total_fen::text, excluded_count FROM payment_batches WHERE id = ${batch.id}`;
    const [stored] = await sql<{ n: number; people: number; fen: string }[]>`
      SELECT count(*)::int AS n, count(DISTINCT id_hash)::int AS people, sum(amount_fen)::text AS fen
      FROM payment_lines WHERE batch_id = ${batch.id}`;
    expect(expected?.due).toBeGreaterThan(10_000);
    expect(done).toEqual({
      status: 'draft',
      line_count: expected?.due,
      total_fen: String((expected?.due ?? 0) * 30_000),
      excluded_count: (expected?.persons ?? 0) - (expected?.due ?? 0),
    });
    expect(stored).toEqual({ n: expected?.due, people: expected?.due, fen: done?.total_fen });
    const [audits] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_events
      WHERE division_code = ${COUNTY} AND action = 'disbursement.compute' AND entity_id = ${batch.id}`;
    expect(audits?.n).toBe(1);
  }, 240_000);
});

/**
 * PostgreSQL itself restarted (`pg_ctl -m immediate`, a crash of the database server) while the API
 * writes: on a private cluster of this test's own, so the shared server of the rest of the suite is
 * untouched. Needs PostgreSQL's server binaries (`pg_config --bindir`); as root they run as `postgres`.
 */
const pgBin = await exec('pg_config', ['--bindir']).then(
  (r) => r.stdout.trim(),
  () => '',
);
const asRoot = process.getuid?.() === 0;

async function asPostgres(cmd: string, args: string[]) {
  const file = join(pgBin, cmd);
  return asRoot ? exec('runuser', ['-u', 'postgres', '--', file, ...args]) : exec(file, args);
}

describe.runIf(DATABASE_URL && pgBin)('PostgreSQL restarted during writes', () => {
  const pgPort = 40_000 + Math.floor(Math.random() * 10_000);
  let clusterDir: string;
  let pgData: string;
  let own: postgres.Sql;
  let ownEnv: NodeJS.ProcessEnv;
  let api: ChildProcess | undefined;
  let token: string;
  const apiPort = port + 1;
  const apiBase = `http://127.0.0.1:${apiPort}`;

  const pgCtl = (...args: string[]) => asPostgres('pg_ctl', ['-D', pgData, '-w', '-t', '60', ...args]);
  const startCluster = () =>
    pgCtl(
      '-l',
      join(clusterDir, 'log'),
      '-o',
      `-p ${pgPort} -c listen_addresses=127.0.0.1 -k ${clusterDir}`,
      'start',
    );

  beforeAll(async () => {
    clusterDir = await mkdtemp(join(tmpdir(), 'houfu-pg-'));
    pgData = join(clusterDir, 'data');
    if (asRoot) await exec('chown', ['-R', 'postgres:postgres', clusterDir]);
    await asPostgres('initdb', ['-D', pgData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    await startCluster();
    const url = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;
    ownEnv = {
      ...process.env,
      DATABASE_URL: url,
      HOUFU_DATA_DIR: await mkdtemp(join(tmpdir(), 'houfu-pgdata-')),
      HOUFU_DATA_KEY: randomBytes(32).toString('base64'),
      PORT: String(apiPort),
      LOG_LEVEL: 'silent',
      // The writers below are one caller going flat out; the per-caller limit is not under test here.
      HOUFU_RATE_LIMIT_PER_MINUTE: '1000000',
    };
    await exec(process.execPath, [bin, 'migrate'], { env: ownEnv });
    await exec(process.execPath, [bin, 'localities', '--county', String(COUNTY)], { env: ownEnv });
    own = postgres(url, { max: 1, onnotice: () => {} });
    // The first token also creates the signing keys the server needs.
    token = (
      await exec(
        process.execPath,
        [bin, 'token', '--division', String(COUNTY), '--role', 'county_operator'],
        {
          env: ownEnv,
        },
      )
    ).stdout.trim();
    api = spawn(process.execPath, [bin, 'serve'], { env: ownEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    api.stderr?.on('data', (d) => {
      stderr += d;
    });
    for (let i = 0; i < 200; i += 1) {
      if (
        await fetch(`${apiBase}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the server did not start: ${stderr}`);
  }, 120_000);

  afterAll(async () => {
    api?.kill('SIGKILL');
    await own?.end({ timeout: 1 }).catch(() => {});
    if (pgData) await pgCtl('-m', 'immediate', 'stop').catch(() => {});
    if (clusterDir) await rm(clusterDir, { recursive: true, force: true });
    if (ownEnv?.HOUFU_DATA_DIR) await rm(ownEnv.HOUFU_DATA_DIR, { recursive: true, force: true });
  });

  it('answers 503 while the database is down, recovers by itself, and loses no acknowledged write', async () => {
    const [village] = await own<{ code: string }[]>`
      SELECT code FROM localities WHERE division_code = ${COUNTY} AND level = 'village' LIMIT 1`;
    expect(village).toBeDefined();

    /** One household per key; a key is retried until it is answered with a 2xx (the SDK's rule). */
    const acknowledged = new Set<string>();
    const statuses = new Map<number, number>();
    type Phase = 'up' | 'down' | 'starting' | 'after';
    const phaseStatuses: Record<Phase, Set<number>> = {
      up: new Set(),
      down: new Set(),
      starting: new Set(),
      after: new Set(),
    };
    let phase: Phase = 'up';
    /** The longest a request sent while the database was down took to be answered. */
    let slowestInGap = 0;
    const create = async (no: string): Promise<number> => {
      // A refused or dropped connection counts as status 0: the server must never do that.
      const startedIn = phase;
      const sentAt = Date.now();
      const res = await fetch(`${apiBase}/v1/households`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': `restart-${no}`,
        },
        body: JSON.stringify({ household_no: no, village_code: Number(village?.code) }),
      }).then(
        async (r) => {
          await r.arrayBuffer();
          return r;
        },
        () => ({ status: 0 }),
      );
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (startedIn === 'down') slowestInGap = Math.max(slowestInGap, Date.now() - sentAt);
      // Sent and answered while the database was down. One sent near the end of the gap may wait for the
      // driver's reconnect (backoff ≤ 1 s) and succeed once the database is back: that is not a 503.
      if (startedIn !== 'down' || phase === 'down') phaseStatuses[startedIn].add(res.status);
      if (res.status === 201) acknowledged.add(no);
      return res.status;
    };
    let running = true;
    const keys: string[] = [];
    const writer = async (w: number) => {
      for (let i = 0; running; i += 1) {
        const no = `R${w}-${i}`;
        keys.push(no);
        // Retry the same key while the database is away, a little apart.
        while (running && (await create(no)) === 503) await new Promise((r) => setTimeout(r, 50));
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

    let health = 0;
    try {
      await pause(1_000);
      // A crash restart under load: in-flight transactions are lost, committed ones must survive.
      await pgCtl('-l', join(clusterDir, 'log'), '-m', 'immediate', 'restart');
      await pause(1_000);
      // Then down for a while: every request sent in the gap is answered 503 at once (never a 500, a hang
      // or a dropped connection).
      await pgCtl('-m', 'immediate', 'stop');
      phase = 'down';
      await pause(1_500);
      health = (await fetch(`${apiBase}/healthz`)).status;
      phase = 'starting';
      await startCluster();
      phase = 'after';
      await pause(2_000);
    } finally {
      running = false;
      await Promise.all(writers);
    }
    expect(health).toBe(503);
    // Keys left unanswered when the writers stopped are retried now: each ends 201 (or its replay).
    for (const no of keys) if (!acknowledged.has(no)) expect(await create(no)).toBe(201);

    expect(api?.exitCode).toBeNull();
    expect(
      [...statuses.keys()].every((s) => s === 201 || s === 503),
      JSON.stringify([...statuses]),
    ).toBe(true);
    expect(phaseStatuses.down).toEqual(new Set([503]));
    // Fast, never a hang: within the reconnect backoff (1 s) and a margin for a loaded machine.
    expect(slowestInGap).toBeLessThan(2_500);
    expect(phaseStatuses.after.has(201)).toBe(true);
    expect((await fetch(`${apiBase}/healthz`)).status).toBe(200);
    const rows = await own<{ household_no: string }[]>`
      SELECT household_no FROM households WHERE division_code = ${COUNTY} AND household_no LIKE 'R%'`;
    // Every acknowledged write is there, once; nothing else is.
    expect(rows.map((r) => r.household_no).sort()).toEqual([...acknowledged].sort());
    expect(acknowledged.size).toBe(keys.length);
    expect(keys.length).toBeGreaterThan(20);
  }, 120_000);
});
