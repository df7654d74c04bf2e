/**
 * `npm run bench [-- --size 1m|100k|20k|smoke] [--repeat 3] [--only P5]` — docs/performance.md.
 *
 * Creates a scratch database `houfu_bench_<ts>` on the DATABASE_URL server (dropped at the end, also on
 * failure and SIGINT), builds the CLI bundle, generates a deterministic synthetic province (湖北省, its
 * first counties in code order), and measures P1–P5 of shared/docs/PERFORMANCE.md: each product
 * operation through the real server over HTTP on 127.0.0.1 and its raw baseline on the same data, in
 * the same run, several repetitions. Writes a JSON file and appends a dated table to docs/performance.md.
 * No timing is asserted: the smoke size runs in CI only so that the suite keeps working.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, hostname, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { keyStoreFrom, loadConfig, loadOrCreateKeyFile, signUserToken, tokenSettingsFrom } from '@houfu/api';
import { apiDatabaseUrl, createSealer, OPEN_IN_WORKERS, parseDataKey } from '@houfu/db';
import type { Role } from '@houfu/domain';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { type CountyFile, writeCountyCsv } from './data.ts';
import {
  exec,
  killAllChildren,
  mapLimit,
  quantile,
  randomPort,
  round,
  type Stats,
  sleep,
  startChild,
  stats,
  stopChild,
  timed,
  waitForHttp,
} from './lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const cliDir = join(root, 'apps', 'cli');
const bin = join(cliDir, 'dist', 'houfu.mjs');

/** 湖北省: 105 county-level divisions in the dictionary, every one with its townships and villages. */
const PROVINCE = 420000;
/** One period per repetition of P2 (semi-annual, all begun, every synthetic person inside the window). */
const PERIODS = ['2026-H1', '2025-H2', '2025-H1', '2024-H2', '2024-H1'];
const PERIOD = PERIODS[0] as string;
const APPROVED = ['approved', 'exported', 'reconciling', 'closed'];

// ─── options ────────────────────────────────────────────────────────────────────────────────────

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '1m' },
    repeat: { type: 'string' },
    counties: { type: 'string' },
    'load-seconds': { type: 'string' },
    'summary-calls': { type: 'string' },
    out: { type: 'string' },
    only: { type: 'string' },
    'no-record': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});

function parseSize(size: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(size.trim());
  if (!m) throw new Error(`--size: expected smoke, or a number like 20k, 100k, 1m (got ${size})`);
  const unit = m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1;
  return Math.round(Number(m[1]) * unit);
}

const smoke = args.size === 'smoke';
const persons = smoke ? 2_000 : parseSize(args.size ?? '1m');
const counties = Number(
  args.counties ?? (smoke ? 2 : Math.min(100, Math.max(2, Math.floor(persons / 1_000)))),
);
const repeat = Number(args.repeat ?? (smoke ? 1 : 3));
const loadSeconds = Number(args['load-seconds'] ?? (smoke ? 2 : 10));
const summaryCalls = Number(args['summary-calls'] ?? (smoke ? 5 : 21));
/**
 * `--only P5` (or `P2,P3`): measure only these targets. The registry is always imported (P1's
 * product phase, once per repetition only when P1 is selected); P3 and P4 need P2's batches, so P2
 * runs (untimed figures still reported) when any of P2–P4 is asked for. A partial run is never
 * appended to docs/ (as `--no-record`).
 */
const only = new Set(
  (args.only ?? 'P1,P2,P3,P4,P5')
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean),
);
for (const id of only) if (!/^P[1-5]$/.test(id)) throw new Error(`--only: expected P1–P5 (got ${id})`);
const partial = only.size < 5;
const record = !smoke && !args['no-record'] && !partial;
if (!(persons >= 100 && counties >= 1 && counties <= 100 && repeat >= 1 && repeat <= PERIODS.length)) {
  throw new Error(`need ≥ 100 persons, 1–100 counties and 1–${PERIODS.length} repetitions`);
}
if (!(loadSeconds >= 1 && loadSeconds <= 60 && summaryCalls >= 1 && summaryCalls <= 500)) {
  throw new Error('--load-seconds 1–60, --summary-calls 1–500');
}
/** A generous bound for each waiting loop: nothing here may wait forever. */
const jobDeadlineMs = 120_000 + persons * 2;

const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  console.error('npm run bench needs DATABASE_URL (any database on the PostgreSQL server to use)');
  process.exit(2);
}

const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

// ─── scratch database, processes, cleanup ───────────────────────────────────────────────────────

const dbName = `houfu_bench_${Date.now()}`;
const benchUrl = (() => {
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
let sql: postgres.Sql | undefined;
let workDir: string | undefined;
let cleaning: Promise<void> | undefined;

/** Kills the servers, drops the scratch database, removes the files; once, whoever calls first. */
function cleanup(): Promise<void> {
  cleaning ??= doCleanup();
  return cleaning;
}

async function doCleanup(): Promise<void> {
  killAllChildren();
  await sql?.end({ timeout: 1 }).catch(() => {});
  if (args.keep) log(`--keep: the scratch database ${dbName} is left for inspection (drop it yourself)`);
  else
    await admin
      .unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
      .catch((e: Error) => console.error(`could not drop ${dbName}: ${e.message}`));
  await admin.end({ timeout: 1 }).catch(() => {});
  if (workDir) await rm(workDir, { recursive: true, force: true }).catch(() => {});
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping, dropping ${dbName}`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ─── the product server ─────────────────────────────────────────────────────────────────────────

const port = randomPort();
const base = `http://127.0.0.1:${port}`;
let env: NodeJS.ProcessEnv = {};
let server: ReturnType<typeof startChild> | undefined;

async function houfu(...cmd: string[]) {
  return exec(process.execPath, [bin, ...cmd], { env, maxBuffer: 16 * 1024 * 1024 });
}

async function startProduct(): Promise<void> {
  server = startChild(process.execPath, [bin, 'serve'], env);
  await waitForHttp(`${base}/healthz`, server, 60_000);
}

/** A fresh scratch database: migrated, the dictionary loaded, the counties' townships and villages. */
async function freshDatabase(countyCodes: readonly number[]): Promise<void> {
  await sql?.end({ timeout: 1 });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  sql = postgres(benchUrl, { max: 2, onnotice: () => {}, idle_timeout: 0 });
  await houfu('migrate');
  const codes = countyCodes.length > 0 ? countyCodes : await pickCounties();
  await houfu('localities', ...codes.flatMap((c) => ['--county', String(c)]));
}

async function pickCounties(): Promise<number[]> {
  const rows = await db()<{ code: number }[]>`
    SELECT c.code FROM divisions c JOIN divisions ci ON ci.code = c.parent_code
    WHERE ci.parent_code = ${PROVINCE} AND c.level = 'county' ORDER BY c.code LIMIT ${counties}`;
  return rows.map((r) => r.code);
}

const db = () => {
  if (!sql) throw new Error('no database');
  return sql;
};

interface Http {
  status: number;
  body: unknown;
}

async function api(
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Http> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, ...headers } };
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Uint8Array) init.body = body;
    else {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

function expectStatus(r: Http, want: number, what: string): Record<string, unknown> {
  if (r.status !== want) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`);
  return r.body as Record<string, unknown>;
}

// ─── results ────────────────────────────────────────────────────────────────────────────────────

interface Result {
  id: string;
  operation: string;
  baseline: string;
  unit: 'ms' | 'req/s';
  product: Stats;
  raw: Stats;
  /** product / baseline (P5: product req/s ÷ bare req/s), on the medians. */
  ratio: number;
  /**
   * The design floor: the same raw tools doing only what the agreed design makes unavoidable (the
   * product's tables with their indexes and checks, the sealed accounts, the request transaction),
   * measured in the same run; its ratio is to the baseline, as the product's. A floor beyond the target
   * says that no implementation of this design meets the target on this machine.
   */
  floor?: { what: string; value: Stats; ratio: number };
  target: string;
  met: boolean;
  detail: Record<string, unknown>;
}

const results: Result[] = [];

function ratioOf(product: Stats, raw: Stats) {
  return round(product.median / raw.median, 2);
}

// ─── P1: registry import ────────────────────────────────────────────────────────────────────────

async function p1(
  countyCodes: number[],
  files: CountyFile[],
  tokens: Map<number, string>,
): Promise<{ copyMode: string }> {
  const bodies = await Promise.all(files.map((f) => readFile(f.path)));
  const totalRows = files.reduce((s, f) => s + f.rows, 0);

  // Baseline: COPY of the same files into a plain table (all text columns, like the file).
  const rawTimes: number[] = [];
  let copyMode = 'server-side COPY FROM file';
  const createRaw = async () =>
    db().unsafe(`CREATE TABLE IF NOT EXISTS bench_raw_import (
      household_no text, relationship text, name text, national_id text, reservoir text,
      relocation_date text, relocatee_kind text, village_code text, bank_name text, bank_account text)`);
  const copyAll = async () => {
    for (const f of files) {
      if (copyMode.startsWith('server-side')) {
        try {
          await db().unsafe(
            `COPY bench_raw_import FROM '${f.path.replaceAll("'", "''")}' WITH (FORMAT csv, HEADER true)`,
          );
          continue;
        } catch (error) {
          copyMode = `COPY FROM STDIN (server-side COPY failed: ${(error as Error).message})`;
        }
      }
      const writable = await db()`COPY bench_raw_import FROM STDIN WITH (FORMAT csv, HEADER true)`.writable();
      const body = bodies[files.indexOf(f)] as Buffer;
      await new Promise<void>((ok, fail) => {
        writable.on('error', fail);
        writable.on('finish', ok);
        writable.end(body);
      });
    }
  };

  const productTimes: number[] = [];
  const floorTimes: number[] = [];
  const phases: Record<string, number>[] = [];
  const jobTimes: { uploadMs: number; jobsMs: number }[] = [];
  // Not selected (`--only`): one import, the registry the other targets need.
  const reps = only.has('P1') ? repeat : 1;
  for (let r = 0; r < reps; r += 1) {
    if (r > 0) {
      // The import creates the registry: every repetition starts from an empty database.
      await stopChild(server);
      await freshDatabase(countyCodes);
      await startProduct();
    }
    await createRaw();
    await db()`TRUNCATE bench_raw_import`;
    await db()`CHECKPOINT`;
    rawTimes.push((await timed(copyAll)).ms);
    const [copied] = await db()<{ n: number }[]>`SELECT count(*)::int AS n FROM bench_raw_import`;
    if (copied?.n !== totalRows) throw new Error(`COPY loaded ${copied?.n} rows, expected ${totalRows}`);
    await db()`DROP TABLE bench_raw_import`;
    await db()`CHECKPOINT`;

    log(`P1 rep ${r + 1}/${repeat}: importing ${totalRows} rows in ${files.length} counties`);
    const t0 = performance.now();
    const jobs: { id: string; token: string }[] = [];
    for (const [i, f] of files.entries()) {
      const token = tokens.get(f.county) as string;
      const created = expectStatus(
        await api('POST', `/v1/imports?filename=${f.county}.csv`, token, bodies[i], {
          'content-type': 'text/csv',
          'idempotency-key': `bench-import-${r}-${f.county}`,
        }),
        202,
        `upload ${f.county}`,
      );
      jobs.push({ id: (created.job as { id: string }).id, token });
    }
    const uploadMs = performance.now() - t0;
    const phase: Record<string, number> = {};
    await waitJobs(jobs, t0, phase);
    const ms = performance.now() - t0;
    productTimes.push(ms);
    phases.push(phase);
    jobTimes.push({ uploadMs: round(uploadMs), jobsMs: round(ms - uploadMs) });
    const [imported] = await db()<{ n: number; accepted: number }[]>`
      SELECT (SELECT count(*)::int FROM persons) AS n,
             (SELECT coalesce(sum(rows_accepted), 0)::int FROM imports WHERE status = 'completed') AS accepted`;
    if (imported?.n !== totalRows || imported.accepted !== totalRows) {
      throw new Error(`the import registered ${imported?.n} persons, expected ${totalRows}`);
    }
    if (only.has('P1')) floorTimes.push(await copyIntoClones(['households', 'persons']));
    log(
      `P1 rep ${r + 1}: product ${(ms / 1000).toFixed(2)} s, raw COPY ${(rawTimes[r]! / 1000).toFixed(2)} s${only.has('P1') ? `, the rows into the product's tables ${(floorTimes[r]! / 1000).toFixed(2)} s` : ''}`,
    );
  }
  const product = stats(productTimes);
  const raw = stats(rawTimes);
  const ratio = ratioOf(product, raw);
  const stepMs = await db()<{ kind: string; jobs: number; ms: number }[]>`
    SELECT kind, count(*)::int AS jobs,
           round(sum(extract(epoch FROM finished_at - started_at) * 1000))::float8 AS ms
    FROM jobs WHERE kind = 'registry.import' GROUP BY kind`;
  if (!only.has('P1')) return { copyMode };
  results.push({
    id: 'P1',
    operation: `registry import of ${totalRows.toLocaleString('en')} persons, POST /v1/imports per county until the jobs succeed`,
    baseline: `${copyMode} of the same ${files.length} CSV files into a plain table`,
    unit: 'ms',
    product,
    raw,
    ratio,
    floor: {
      what: "the import's households and persons rows COPYed (binary) into empty copies of their tables (indexes and checks; no foreign keys, RLS or triggers)",
      value: stats(floorTimes),
      ratio: ratioOf(stats(floorTimes), raw),
    },
    target: '≤ 2.5×',
    met: ratio <= 2.5,
    detail: {
      rows: totalRows,
      csv_bytes: files.reduce((s, f) => s + f.bytes, 0),
      rows_per_second: round(totalRows / (product.median / 1000), 0),
      per_repetition: jobTimes,
      /** Wall time per job phase (as polled every 100 ms), summed over the counties, last repetition. */
      phase_ms_last_repetition: phases[phases.length - 1],
      job_run_ms_last_repetition: stepMs[0]?.ms,
    },
  });
  return { copyMode };
}

/**
 * P1's floor: the product's rows of `tables` (read out untimed, binary) COPYed into empty copies of
 * those tables — the same columns, indexes and checks, no foreign keys, RLS or triggers — one table
 * after the other, timed; the copies are dropped.
 */
async function copyIntoClones(tables: readonly string[]): Promise<number> {
  const data = new Map<string, Buffer[]>();
  for (const t of tables) {
    // A fresh connection per COPY TO (see P3: postgres.js can leave one stuck after it).
    const copier = postgres(benchUrl, { max: 1, onnotice: () => {} });
    const chunks: Buffer[] = [];
    for await (const c of await copier.unsafe(`COPY ${t} TO STDOUT (FORMAT binary)`).readable()) {
      chunks.push(c as Buffer);
    }
    await copier.end({ timeout: 0 });
    data.set(t, chunks);
    await db().unsafe(`CREATE TABLE bench_floor_${t} (LIKE ${t} INCLUDING ALL)`);
  }
  await db()`CHECKPOINT`;
  const { ms } = await timed(async () => {
    for (const t of tables) {
      const writable = await db().unsafe(`COPY bench_floor_${t} FROM STDIN (FORMAT binary)`).writable();
      await pipeline(Readable.from(data.get(t) ?? []), writable);
    }
  });
  for (const t of tables) await db().unsafe(`DROP TABLE bench_floor_${t}`);
  return ms;
}

/** Polls the jobs in order (the runner takes them one at a time, oldest first) until all succeed. */
async function waitJobs(jobs: { id: string; token: string }[], t0: number, phase: Record<string, number>) {
  const deadline = Date.now() + jobDeadlineMs;
  let last = performance.now();
  let lastPhase = 'queued';
  for (const job of jobs) {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`jobs not done after ${jobDeadlineMs} ms`);
      const j = expectStatus(await api('GET', `/v1/jobs/${job.id}`, job.token), 200, 'job');
      const now = performance.now();
      phase[lastPhase] = round((phase[lastPhase] ?? 0) + (now - last));
      last = now;
      lastPhase = j.status === 'running' ? String(j.phase ?? 'running') : String(j.status);
      if (j.status === 'succeeded') break;
      if (j.status === 'failed') throw new Error(`job ${job.id} failed: ${JSON.stringify(j.error)}`);
      await sleep(100);
    }
  }
  void t0;
}

// ─── status events (not timed) ──────────────────────────────────────────────────────────────────

async function recordEvents(tokens: Map<number, string>): Promise<Record<string, number>> {
  // Deterministic choice (the ID numbers are): ~0.45% deaths, ~0.27% moved out.
  const picked = await db()<{ division_code: number; id: string; kind: string }[]>`
    SELECT division_code, id,
           CASE WHEN right(id_masked, 3) IN ('017', '117', '217', '317', '417') THEN 'death' ELSE 'moved_out' END AS kind
    FROM persons
    WHERE right(id_masked, 3) IN ('017', '117', '217', '317', '417', '023', '123', '223')
    ORDER BY division_code, id_masked, name LIMIT 10000`;
  const counts: Record<string, number> = {};
  await mapLimit(picked, 8, async (p) => {
    const body =
      p.kind === 'death'
        ? { kind: 'death', effective_date: '2024-03-15', evidence_ref: '死亡证明 基准-001' }
        : {
            kind: 'moved_out',
            effective_date: '2024-05-20',
            destination_code: 500101,
            evidence_ref: '迁移证 基准-002',
          };
    const r = await api('POST', `/v1/persons/${p.id}/events`, tokens.get(p.division_code) as string, body);
    if (r.status !== 201 && r.status !== 200)
      throw new Error(`event: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    counts[p.kind] = (counts[p.kind] ?? 0) + 1;
  });
  return counts;
}

// ─── P2: payment batches ────────────────────────────────────────────────────────────────────────

async function p2(countyCodes: number[], tokens: Map<number, string>): Promise<Map<number, string>> {
  await db().unsafe(`CREATE TABLE bench_raw_lines (
    division_code int NOT NULL, person_id uuid NOT NULL, period text NOT NULL, id_hash bytea NOT NULL,
    name text NOT NULL, bank_account_sealed bytea NOT NULL, amount_fen bigint NOT NULL,
    UNIQUE (id_hash, period))`);
  const rawTimes: number[] = [];
  const productTimes: number[] = [];
  const floorTimes: number[] = [];
  let rawRows = 0;
  let batchesOfFirst = new Map<number, string>();
  const lineCounts: number[] = [];
  for (let r = 0; r < repeat; r += 1) {
    const period = PERIODS[r] as string;
    await db()`TRUNCATE bench_raw_lines`;
    await db()`CHECKPOINT`;
    const raw = await timed(
      () => db()`
        INSERT INTO bench_raw_lines (division_code, person_id, period, id_hash, name, bank_account_sealed, amount_fen)
        SELECT division_code, id, ${period}, id_hash, name, bank_account_sealed, 30000
        FROM persons
        WHERE division_code BETWEEN ${PROVINCE} AND ${PROVINCE + 9999}
          AND status = 'registered' AND bank_account_sealed IS NOT NULL
        ORDER BY division_code, household_id, id_hash
        ON CONFLICT DO NOTHING`,
    );
    rawTimes.push(raw.ms);
    rawRows = raw.value.count;
    await db()`CHECKPOINT`;

    log(`P2 rep ${r + 1}/${repeat}: batches for ${period} in ${countyCodes.length} counties`);
    const t0 = performance.now();
    const batches = new Map<number, string>();
    for (const county of countyCodes) {
      const b = expectStatus(
        await api(
          'POST',
          '/v1/disbursements',
          tokens.get(county) as string,
          { period },
          { 'idempotency-key': `bench-batch-${period}-${county}` },
        ),
        202,
        `batch ${county}`,
      );
      batches.set(county, String(b.id));
    }
    const deadline = Date.now() + jobDeadlineMs;
    let lines = 0;
    for (const [county, id] of batches) {
      for (;;) {
        if (Date.now() > deadline) throw new Error(`batches not computed after ${jobDeadlineMs} ms`);
        const b = expectStatus(
          await api('GET', `/v1/disbursements/${id}`, tokens.get(county) as string),
          200,
          'batch',
        );
        if (b.status === 'draft') {
          lines += Number(b.lines);
          break;
        }
        if (b.status !== 'computing') throw new Error(`batch ${id} ended ${String(b.status)}`);
        await sleep(100);
      }
    }
    productTimes.push(performance.now() - t0);
    lineCounts.push(lines);
    if (r === 0) batchesOfFirst = batches;
    if (only.has('P2')) floorTimes.push(await insertIntoClones(period, lines));
    log(
      `P2 rep ${r + 1}: product ${(productTimes[r]! / 1000).toFixed(2)} s (${lines} lines), raw ${(raw.ms / 1000).toFixed(2)} s (${rawRows} rows)${only.has('P2') ? `, the lines into the product's tables ${(floorTimes[r]! / 1000).toFixed(2)} s` : ''}`,
    );
  }
  await db()`DROP TABLE bench_raw_lines`;
  const product = stats(productTimes);
  const raw = stats(rawTimes);
  const ratio = ratioOf(product, raw);
  results.push({
    id: 'P2',
    operation: `payment batches of the province for one period (${countyCodes.length} × POST /v1/disbursements until draft)`,
    baseline:
      'INSERT … SELECT of the eligible persons into a table with unique (id_hash, period), ON CONFLICT DO NOTHING',
    unit: 'ms',
    product,
    raw,
    ratio,
    // Measured only when P2 is asked for (P3 and P4 need its batches, not its floor).
    ...(only.has('P2') && {
      floor: {
        what: "the period's lines and exclusions, as the product wrote them, INSERT … SELECTed (ON CONFLICT as the product) into empty copies of their tables (indexes and checks; no foreign keys, RLS or triggers)",
        value: stats(floorTimes),
        ratio: ratioOf(stats(floorTimes), raw),
      },
    }),
    target: '≤ 2×',
    met: ratio <= 2,
    detail: {
      lines_per_repetition: lineCounts,
      raw_rows: rawRows,
      periods: PERIODS.slice(0, repeat),
    },
  });
  return batchesOfFirst;
}

/**
 * P2's floor: the period's lines and exclusions, as the product wrote them, INSERT … SELECTed into
 * empty copies of their tables — the same columns, indexes and checks, no foreign keys, RLS or
 * triggers — timed; the copies are dropped.
 */
async function insertIntoClones(period: string, lines: number): Promise<number> {
  await db()`CREATE TABLE bench_floor_lines (LIKE payment_lines INCLUDING ALL)`;
  await db()`CREATE TABLE bench_floor_exclusions (LIKE payment_exclusions INCLUDING ALL)`;
  await db()`CHECKPOINT`;
  const { ms, value } = await timed(async () => {
    const inserted = await db()`
      INSERT INTO bench_floor_lines SELECT * FROM payment_lines WHERE period = ${period}
      ORDER BY division_code, batch_id, line_no
      ON CONFLICT (id_hash, period) WHERE outcome <> 'failed' DO NOTHING`;
    await db()`
      INSERT INTO bench_floor_exclusions SELECT e.* FROM payment_exclusions e
      JOIN payment_batches b ON b.division_code = e.division_code AND b.id = e.batch_id
      WHERE b.period = ${period}`;
    return inserted.count;
  });
  await db()`DROP TABLE bench_floor_lines, bench_floor_exclusions`;
  if (value !== lines) throw new Error(`P2 floor: ${value} lines copied, expected ${lines}`);
  return ms;
}

async function approveAll(
  batches: Map<number, string>,
  operators: Map<number, string>,
  approvers: Map<number, string>,
) {
  await mapLimit([...batches], 4, async ([county, id]) => {
    const b = expectStatus(
      await api('GET', `/v1/disbursements/${id}`, operators.get(county) as string),
      200,
      'batch',
    );
    expectStatus(
      await api('POST', `/v1/disbursements/${id}/approve`, approvers.get(county) as string, {
        content_hash: b.content_hash,
        note: '基准测试',
      }),
      200,
      `approve ${county}`,
    );
  });
}

// ─── P3: bank files ─────────────────────────────────────────────────────────────────────────────

async function p3(batches: Map<number, string>, tokens: Map<number, string>) {
  const productTimes: number[] = [];
  const rawTimes: number[] = [];
  let productBytes = 0;
  let rawBytes = 0;
  for (let r = 0; r < repeat; r += 1) {
    const t0 = performance.now();
    productBytes = 0;
    for (const [county, id] of batches) {
      const res = await fetch(`${base}/v1/disbursements/${id}/bank-file`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.get(county)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ format: 'csv', reason: '基准测试导出' }),
      });
      const buf = await res.arrayBuffer();
      if (res.status !== 200)
        throw new Error(
          `bank file ${county}: HTTP ${res.status} ${Buffer.from(buf).toString().slice(0, 300)}`,
        );
      productBytes += buf.byteLength;
    }
    productTimes.push(performance.now() - t0);

    // One COPY of all the batches' lines on its own connection: postgres.js leaves a connection stuck
    // after a COPY TO whose stream paused the socket, so each repetition uses a fresh one (opened
    // before the clock starts, destroyed after).
    const ids = [...batches.values()];
    if (!ids.every((id) => /^[0-9a-f-]{36}$/.test(id))) throw new Error('bad batch id');
    const copier = postgres(benchUrl, { max: 1, onnotice: () => {} });
    await copier`SELECT 1`;
    const t1 = performance.now();
    rawBytes = 0;
    const stream = await copier
      .unsafe(`COPY (SELECT reference, name, bank_account_sealed, bank_name, amount_fen FROM payment_lines
               WHERE batch_id IN (${ids.map((id) => `'${id}'`).join(', ')})
               ORDER BY division_code, batch_id, line_no) TO STDOUT WITH (FORMAT csv)`)
      .readable();
    for await (const chunk of stream) rawBytes += (chunk as Buffer).length;
    rawTimes.push(performance.now() - t1);
    await copier.end({ timeout: 0 });
    log(
      `P3 rep ${r + 1}/${repeat}: product ${(productTimes[r]! / 1000).toFixed(2)} s, raw COPY TO ${(rawTimes[r]! / 1000).toFixed(2)} s`,
    );
  }
  const [lines] = await db()<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM payment_lines WHERE period = ${PERIOD}`;
  const floorTimes = await openAccounts(lines?.n ?? 0);
  const product = stats(productTimes);
  const raw = stats(rawTimes);
  const ratio = ratioOf(product, raw);
  results.push({
    id: 'P3',
    operation: `bank files (CSV) of the ${batches.size} approved batches, ${lines?.n.toLocaleString('en')} lines (POST /v1/disbursements/{id}/bank-file)`,
    baseline: 'one COPY (SELECT the same lines) TO STDOUT, read by postgres.js',
    unit: 'ms',
    product,
    raw,
    ratio,
    floor: {
      what: "opening the lines' accounts alone with the product's sealer on every core (half in its worker threads, half on the main thread at once); nothing read or written",
      value: stats(floorTimes),
      ratio: ratioOf(stats(floorTimes), raw),
    },
    target: '≤ 2×',
    met: ratio <= 2,
    detail: { lines: lines?.n, product_bytes: productBytes, raw_bytes: rawBytes },
  });
}

/**
 * P3's floor, once per repetition: opening the exported lines' accounts (read once, untimed) with the
 * product's sealer, every core at once — half in its worker threads (in pages of 2,000, as the export
 * sends them), half on this thread meanwhile — and nothing else: no reading, checking, formatting or
 * writing.
 */
async function openAccounts(expected: number): Promise<number[]> {
  const sealed = (
    await db()<{ s: Buffer }[]>`SELECT bank_account_sealed AS s FROM payment_lines WHERE period = ${PERIOD}`
  ).map((r) => r.s);
  if (sealed.length !== expected)
    throw new Error(`P3 floor: ${sealed.length} accounts, expected ${expected}`);
  const sealer = createSealer(parseDataKey(env.HOUFU_DATA_KEY as string));
  await sealer.openMany(sealed.slice(0, OPEN_IN_WORKERS)); // starts the worker threads, untimed
  const half = sealed.length >> 1;
  const times: number[] = [];
  for (let r = 0; r < repeat; r += 1) {
    const { ms, value } = await timed(async () => {
      const pages: Promise<string[]>[] = [];
      for (let i = half; i < sealed.length; i += 2000) pages.push(sealer.openMany(sealed.slice(i, i + 2000)));
      const here = sealed.slice(0, half).map((v) => sealer.open(v));
      return here.length + (await Promise.all(pages)).reduce((n, p) => n + p.length, 0);
    });
    if (value !== sealed.length) throw new Error(`P3 floor: opened ${value} of ${sealed.length}`);
    times.push(ms);
  }
  return times;
}

// ─── P4: province summary ───────────────────────────────────────────────────────────────────────

async function p4(provinceToken: string) {
  const productP50: number[] = [];
  const rawP50: number[] = [];
  const path = `/v1/disbursements/summary?division=${PROVINCE}&group_by=county&period=${PERIOD}`;
  let units = 0;
  for (let r = 0; r < repeat; r += 1) {
    const p: number[] = [];
    for (let i = 0; i < summaryCalls; i += 1) {
      const { ms, value } = await timed(() => api('GET', path, provinceToken));
      const body = expectStatus(value, 200, 'summary');
      units = (body.rows as unknown[]).length;
      p.push(ms);
    }
    const q: number[] = [];
    for (let i = 0; i < summaryCalls; i += 1) {
      q.push(
        (
          await timed(
            () => db()`
              SELECT l.division_code, count(*) AS lines, sum(l.amount_fen) AS due_fen,
                     count(*) FILTER (WHERE l.outcome = 'paid') AS paid,
                     sum(l.amount_fen) FILTER (WHERE l.outcome = 'paid') AS paid_fen,
                     count(*) FILTER (WHERE l.outcome = 'failed') AS failed,
                     count(*) FILTER (WHERE l.outcome = 'pending') AS pending,
                     sum(l.project_fen) AS project_fen
              FROM payment_lines l
              JOIN payment_batches b ON b.division_code = l.division_code AND b.id = l.batch_id
              WHERE l.period = ${PERIOD} AND b.status IN ${db()(APPROVED)}
                AND l.division_code BETWEEN ${PROVINCE} AND ${PROVINCE + 9999}
              GROUP BY l.division_code`,
          )
        ).ms,
      );
    }
    productP50.push(quantile(p, 0.5));
    rawP50.push(quantile(q, 0.5));
    log(
      `P4 rep ${r + 1}/${repeat}: product p50 ${productP50[r]!.toFixed(1)} ms, raw GROUP BY p50 ${rawP50[r]!.toFixed(1)} ms`,
    );
  }
  const product = stats(productP50);
  const raw = stats(rawP50);
  const ratio = ratioOf(product, raw);
  results.push({
    id: 'P4',
    operation: `province summary by county, GET /v1/disbursements/summary as the province (p50 of ${summaryCalls} calls)`,
    baseline: `the same GROUP BY over payment_lines ⋈ approved batches (p50 of ${summaryCalls})`,
    unit: 'ms',
    product,
    raw,
    ratio,
    target: '≤ 2×, p50 ≤ 600 ms',
    met: ratio <= 2 && product.median <= 600,
    detail: { counties_in_answer: units, calls_per_repetition: summaryCalls },
  });
}

// ─── P5: GET by id under load ───────────────────────────────────────────────────────────────────

interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  requests: number;
}

async function load(
  url: string,
  paths: string[],
  headers: Record<string, string>,
  seconds: number,
): Promise<Load> {
  let i = 0;
  const result = await autocannon({
    url,
    connections: 50,
    duration: seconds,
    timeout: 10,
    headers,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          i += 1;
          return { ...req, path: paths[i % paths.length] as string };
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
  };
}

/** Sequential latency, one connection: the cost of one request with nothing queued. */
async function sequential(url: (i: number) => string, headers: Record<string, string>, n: number) {
  const t: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const { ms, value } = await timed(() =>
      fetch(url(i), { headers }).then((r) => r.arrayBuffer().then(() => r.status)),
    );
    if (value !== 200) throw new Error(`sequential GET: HTTP ${value}`);
    t.push(ms);
  }
  return { p50: round(quantile(t, 0.5)), p99: round(quantile(t, 0.99)) };
}

async function p5(county: number, token: string) {
  const ids = (
    await db()<
      { id: string }[]
    >`SELECT id FROM persons WHERE division_code = ${county} ORDER BY id LIMIT 1000`
  ).map((r) => r.id);
  const barePort = port + 1;
  const tsxLoader = import.meta.resolve('tsx/esm');
  const bare = startChild(process.execPath, ['--import', tsxLoader, join(here, 'bare-server.ts')], {
    ...process.env,
    BENCH_DATABASE_URL: benchUrl,
    BENCH_API_DATABASE_URL: apiDatabaseUrl(benchUrl),
    BENCH_PORT: String(barePort),
    BENCH_COUNTY: String(county),
    BENCH_POOL: env.HOUFU_DB_POOL_MAX ?? '10',
  });
  const bareBase = `http://127.0.0.1:${barePort}`;
  await waitForHttp(`${bareBase}/ping`, bare, 60_000);
  const auth = { authorization: `Bearer ${token}` };
  const productPaths = ids.map((id) => `/v1/persons/${id}`);
  const barePaths = ids.map((id) => `/persons/${id}`);
  const floorPaths = ids.map((id) => `/scoped/persons/${id}`);
  // Warm them up (JIT, pools, caches), not measured.
  await load(base, productPaths, auth, 1);
  await load(bareBase, barePaths, {}, 1);
  await load(bareBase, floorPaths, {}, 1);
  const product: Load[] = [];
  const raw: Load[] = [];
  const floor: Load[] = [];
  for (let r = 0; r < repeat; r += 1) {
    product.push(await load(base, productPaths, auth, loadSeconds));
    raw.push(await load(bareBase, barePaths, {}, loadSeconds));
    floor.push(await load(bareBase, floorPaths, {}, loadSeconds));
    log(
      `P5 rep ${r + 1}/${repeat}: product ${product[r]!.rps.toFixed(0)} req/s p99 ${product[r]!.p99} ms; bare ${raw[r]!.rps.toFixed(0)} req/s p99 ${raw[r]!.p99} ms; bare in the request transaction ${floor[r]!.rps.toFixed(0)} req/s p99 ${floor[r]!.p99} ms`,
    );
  }
  for (const l of [...product, ...raw, ...floor]) {
    if (l.non2xx > 0 || l.errors > 0) throw new Error(`P5: ${l.non2xx} non-2xx answers, ${l.errors} errors`);
  }
  // Where a request's time goes: sequential single-connection latencies, and the frameworks alone.
  const seq = Math.min(400, ids.length * 4);
  const breakdown = {
    product_sequential_ms: await sequential((i) => `${base}${productPaths[i % ids.length]}`, auth, seq),
    bare_sequential_ms: await sequential((i) => `${bareBase}${barePaths[i % ids.length]}`, {}, seq),
    product_healthz: await load(base, ['/healthz'], {}, Math.min(loadSeconds, 5)),
    bare_hono_json_no_db: await load(bareBase, ['/ping'], {}, Math.min(loadSeconds, 5)),
  };
  await stopChild(bare);
  const productRps = stats(product.map((l) => l.rps));
  const rawRps = stats(raw.map((l) => l.rps));
  const productP99 = stats(product.map((l) => l.p99));
  const rawP99 = stats(raw.map((l) => l.p99));
  const floorRps = stats(floor.map((l) => l.rps));
  const ratio = ratioOf(productRps, rawRps);
  results.push({
    id: 'P5',
    operation: `GET /v1/persons/{id} as the county (JWT, RLS transaction), autocannon 50 connections × ${loadSeconds} s`,
    baseline: 'bare Hono + postgres.js primary-key GET (no auth, no transaction) on the same table',
    unit: 'req/s',
    product: productRps,
    raw: rawRps,
    ratio,
    floor: {
      what: 'the bare GET in the request transaction as houfu_api under RLS, at its least: BEGIN, scope, SELECT and COMMIT pipelined in one round trip',
      value: floorRps,
      ratio: ratioOf(floorRps, rawRps),
    },
    target: '≥ 0.6×, p99 ≤ 50 ms',
    met: ratio >= 0.6 && productP99.median <= 50,
    detail: {
      product_p99_ms: productP99,
      bare_p99_ms: rawP99,
      floor_p99_ms: stats(floor.map((l) => l.p99)),
      product_runs: product,
      bare_runs: raw,
      floor_runs: floor,
      breakdown,
    },
  });
}

// ─── output ─────────────────────────────────────────────────────────────────────────────────────

function fmt(v: number, unit: Result['unit']) {
  if (unit === 'req/s') return `${Math.round(v).toLocaleString('en')} req/s`;
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`;
}

function markdown(meta: Record<string, unknown>, jsonPath: string): string {
  const m = meta as {
    date: string;
    size: string;
    persons: number;
    households: number;
    counties: number;
    repeat: number;
    git: { commit: string; dirty: boolean };
    machine: { cpus: number; cpu_model: string; memory_gb: number; node: string; postgres: string };
  };
  const inDocs = relative(join(root, 'docs'), jsonPath);
  const link = inDocs.startsWith('..') ? jsonPath : `[${inDocs}](${inDocs})`;
  const rows = results.map((r) => {
    const range = (s: Stats) => `${fmt(s.median, r.unit)} (${fmt(s.min, r.unit)}–${fmt(s.max, r.unit)})`;
    const extra =
      r.id === 'P5'
        ? `; p99 ${(r.detail.product_p99_ms as Stats).median} ms vs ${(r.detail.bare_p99_ms as Stats).median} ms`
        : '';
    return `| ${r.id} | ${r.operation} | ${range(r.product)} | ${range(r.raw)} | ${r.ratio}×${extra} | ${r.floor ? `${fmt(r.floor.value.median, r.unit)}: ${r.floor.ratio}×` : '—'} | ${r.target} | ${r.met ? 'yes' : '**no**'} |`;
  });
  return [
    '',
    `### ${m.date.slice(0, 10)} — ${m.size}: ${m.persons.toLocaleString('en')} persons, ${m.households.toLocaleString('en')} households, ${m.counties} counties of 湖北省`,
    '',
    `Commit ${m.git.commit.slice(0, 10)}${m.git.dirty ? ' (with uncommitted changes)' : ''}; ${m.machine.cpus} × ${m.machine.cpu_model}, ${m.machine.memory_gb} GB, Node ${m.machine.node}, ${m.machine.postgres}; ${m.repeat} repetition${m.repeat === 1 ? '' : 's'}, median (min–max). Raw figures: ${link}.`,
    '',
    '| id | operation | product | baseline | ratio | design floor | target | met? |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

// ─── main ───────────────────────────────────────────────────────────────────────────────────────

async function main() {
  const started = performance.now();
  log(
    `size ${smoke ? 'smoke' : persons.toLocaleString('en')} persons, ${counties} counties, ${repeat} repetitions; scratch database ${dbName}`,
  );
  log('building the CLI bundle');
  await exec(process.execPath, ['build.mjs'], { cwd: cliDir });

  workDir = await mkdtemp(join(tmpdir(), 'houfu-bench-'));
  await chmod(workDir, 0o755);
  const dataDir = join(workDir, 'data');
  env = {
    ...process.env,
    DATABASE_URL: benchUrl,
    HOUFU_DATA_DIR: dataDir,
    HOUFU_DATA_KEY: randomBytes(32).toString('base64'),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    // One caller drives the whole province here; the per-caller limit is not what is measured.
    HOUFU_RATE_LIMIT_PER_MINUTE: '1000000',
    HOUFU_JOB_POLL_MS: '100',
    // A 1M-line province summary may take longer than the default 10 s statement timeout.
    HOUFU_STATEMENT_TIMEOUT_MS: '60000',
    HOUFU_REQUEST_TIMEOUT_MS: '120000',
  };
  await freshDatabase([]);
  const countyCodes = await pickCounties();
  if (countyCodes.length < counties) throw new Error(`湖北省 has only ${countyCodes.length} counties`);

  // Tokens, signed with the key file the server reads.
  const config = loadConfig(env as Record<string, string | undefined>);
  const keyFile = await loadOrCreateKeyFile(config.HOUFU_JWKS_PATH ?? join(dataDir, 'keys', 'jwks.json'));
  const store = await keyStoreFrom(keyFile);
  const settings = tokenSettingsFrom(config);
  const sign = (division: number, role: Role, sub: string) =>
    signUserToken(store, settings, {
      sub,
      division,
      roles: [role],
      name: sub,
      ttlSeconds: config.HOUFU_MAX_TOKEN_AGE,
    });
  const operators = new Map<number, string>();
  const approvers = new Map<number, string>();
  for (const c of countyCodes) {
    operators.set(c, await sign(c, 'county_operator', `bench:operator:${c}`));
    approvers.set(c, await sign(c, 'county_approver', `bench:approver:${c}`));
  }
  const provinceToken = await sign(PROVINCE, 'province_admin', 'bench:province');

  log(`generating ${persons.toLocaleString('en')} persons in ${counties} counties`);
  const filesDir = join(workDir, 'files');
  await mkdir(filesDir, { mode: 0o755 });
  await chmod(filesDir, 0o755);
  const perCounty = Math.floor(persons / counties);
  const files: CountyFile[] = [];
  for (const [i, county] of countyCodes.entries()) {
    const villages = (
      await db()<{ code: string }[]>`
        SELECT code FROM localities WHERE division_code = ${county} AND level = 'village' AND active ORDER BY code`
    ).map((v) => Number(v.code));
    const n = i === 0 ? persons - perCounty * (counties - 1) : perCounty;
    files.push(await writeCountyCsv(filesDir, county, villages, n));
  }
  const totalRows = files.reduce((s, f) => s + f.rows, 0);
  const households = files.reduce((s, f) => s + f.households, 0);
  log(
    `${totalRows.toLocaleString('en')} rows, ${households.toLocaleString('en')} households, ${files
      .filter(Boolean)
      .reduce((s, f) => s + f.withAccount, 0)
      .toLocaleString('en')} with a bank account`,
  );

  await startProduct();
  const { copyMode } = await p1(countyCodes, files, operators);
  let events: Awaited<ReturnType<typeof recordEvents>> | undefined;
  if (only.has('P2') || only.has('P3') || only.has('P4')) {
    log('recording deaths and moves (not timed)');
    events = await recordEvents(operators);
    await db()`ANALYZE`;
    const batches = await p2(countyCodes, operators);
    log('approving the first period’s batches (not timed)');
    await approveAll(batches, operators, approvers);
    await db()`ANALYZE`;
    if (only.has('P3')) await p3(batches, operators);
    if (only.has('P4')) await p4(provinceToken);
  } else {
    await db()`ANALYZE`;
  }
  if (only.has('P5')) await p5(countyCodes[0] as number, operators.get(countyCodes[0] as number) as string);
  await stopChild(server);

  const [pg] = await db()<{ v: string }[]>`SELECT version() AS v`;
  const git = await exec('git', ['rev-parse', 'HEAD'], { cwd: root }).then(
    (r) => r.stdout.trim(),
    () => 'unknown',
  );
  const dirty = await exec('git', ['status', '--porcelain'], { cwd: root }).then(
    (r) => r.stdout.trim().length > 0,
    () => false,
  );
  const now = new Date();
  const meta = {
    date: now.toISOString(),
    size: smoke ? 'smoke' : args.size,
    persons: totalRows,
    households,
    counties,
    province: PROVINCE,
    repeat,
    only: [...only].sort(),
    load_seconds: loadSeconds,
    events,
    copy_baseline: copyMode,
    duration_s: 0,
    git: { commit: git, dirty },
    machine: {
      hostname: hostname(),
      platform: `${platform()} ${release()}`,
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
      memory_gb: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      postgres: (pg?.v ?? '').split(' on ')[0] ?? '',
    },
    server_settings: Object.fromEntries(
      Object.entries(env).filter(([k]) => /^HOUFU_(RATE|JOB|STATEMENT|REQUEST|DB)/.test(k)),
    ),
  };
  meta.duration_s = round((performance.now() - started) / 1000, 1);
  const jsonPath =
    args.out !== undefined
      ? resolve(process.env.INIT_CWD ?? process.cwd(), args.out) // npm runs the script in infra/bench
      : record
        ? join(root, 'docs', 'bench-results', `${now.toISOString().slice(0, 10)}-${args.size}.json`)
        : join(tmpdir(), `houfu-bench-${smoke ? 'smoke' : args.size}-${now.getTime()}.json`);
  await mkdir(dirname(jsonPath), { recursive: true });
  await writeFile(jsonPath, `${JSON.stringify({ ...meta, results }, null, 2)}\n`);
  const table = markdown(meta, jsonPath);
  if (record) {
    const doc = join(root, 'docs', 'performance.md');
    await appendFile(doc, table);
    // In the repository's format (biome aligns the tables, CI checks it): the run's files land as written.
    await exec(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', doc, jsonPath], {
      cwd: root,
    });
    log('appended the results to docs/performance.md');
  }
  process.stdout.write(`${table}\nJSON: ${jsonPath}\n`);
  log(`done in ${meta.duration_s} s`);
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  exitCode = 1;
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (server)
    console.error(
      `server stderr (tail): ${(server as unknown as { stderrTail?: () => string }).stderrTail?.() ?? ''}`,
    );
} finally {
  await cleanup();
}
process.exit(exitCode);
