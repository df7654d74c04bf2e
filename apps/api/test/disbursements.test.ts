/**
 * /v1/disbursements 直补资金发放 (docs/subsidy.md) through the API: a batch prepared by a job (exact
 * totals and content hash), listed, read, recomputed, cancelled, approved by someone else
 * (maker-checker, in the database too), exported as a bank file (the only place a full account
 * appears, audited with its reason), reconciled against bank return files (exceptions, replays,
 * malformed files), failed lines reissued or written off until the batch closes; the seed-000 case
 * (9,868 × 300 yuan); the entitlement of every person checked against `entitlement()` of
 * @houfu/domain from the same inputs; one payment per person and period; security; immutability;
 * the oversight summary.
 *
 * Works on a shared PostgreSQL too: every county used here is picked from a city nobody has data in
 * (see freshCounties), all data comes from the factories, and nothing depends on global counts. The
 * app runs on the real clock (tokens are signed with it): periods such as 2013-H1 lie in the past.
 */
import { createHash, randomUUID } from 'node:crypto';
import { TextDecoder } from 'node:util';
import { rowsOf, type Tx, withDivision } from '@houfu/db';
import { usingPostgres } from '@houfu/db/testing';
import {
  entitlement,
  maskBankAccount,
  maskNationalId,
  type PaymentFrequency,
  type PaymentModeEntry,
  type PaymentModeSetting,
  type PersonEvent,
  type PersonEventKind,
  parsePeriod,
  type RemovalEffectiveRule,
  type RemovalReason,
  type Role,
  resolvePaymentMode,
  type SupportWindowRule,
} from '@houfu/domain';
import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRunner } from '../src/jobs/runner.js';
import { createLogger } from '../src/lib/logger.js';
import { fixedRecordBytes } from '../src/routes/disbursements/bank-files.js';
import { subsidyBatchHandler } from '../src/routes/disbursements/disbursements.job.js';
import {
  createTestApp,
  fields,
  json,
  makeNationalId,
  makePerson,
  makePersons,
  makeTownship,
  problem,
  type TestApp,
} from './helpers.js';

// ── Shapes ─────────────────────────────────────────────────────────────────────────────────────

interface Batch {
  id: string;
  batch_no: string;
  county_code: number;
  county_name: string | null;
  period: string;
  period_start: string;
  period_end: string;
  kind: 'regular' | 'reissue';
  source_batch_id: string | null;
  status: string;
  note: string | null;
  lines: number;
  total_fen: number;
  project_fen: number;
  excluded: number;
  content_hash: string | null;
  policy: Record<string, { from: string; value: unknown; source: string; level: string }> | null;
  prepared_by: string;
  computed_at: string | null;
  approved_by: string | null;
  approved_at: string | null;
  exported_at: string | null;
  closed_at: string | null;
  cancelled_at: string | null;
  created_at: string;
  version: number;
  job: { id: string | null };
  links: { self: string; job: string | null; lines: string; exclusions: string };
}
interface Detail extends Batch {
  outcomes: {
    pending: number;
    paid: number;
    failed: number;
    paid_fen: number;
    failed_fen: number;
    unresolved_failed: number;
    open_exceptions: number;
    accuracy: string | null;
  };
  exclusion_reasons: Record<string, number>;
}
interface Line {
  reference: string;
  line_no: number;
  batch_id: string;
  batch_no: string;
  period: string;
  person_id: string;
  name: string;
  national_id_masked: string;
  village_code: number;
  bank_name: string | null;
  bank_account_masked: string;
  amount_fen: number;
  project_fen: number;
  reissue_of: string | null;
  outcome: 'pending' | 'paid' | 'failed';
  outcome_reason: string | null;
  outcome_at: string | null;
  resolution: 'reissued' | 'written_off' | null;
  resolution_note: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
}
interface Exclusion {
  person_id: string;
  name: string;
  national_id_masked: string;
  village_code: number;
  status: string;
  reasons: string[];
  amount_fen: number;
  project_fen: number;
}
interface BankReturn {
  id: string;
  batch_id: string;
  sha256: string;
  filename: string | null;
  rows: number;
  paid: number;
  failed: number;
  paid_fen: number;
  failed_fen: number;
  exceptions: number;
  control: {
    expected_lines: number;
    expected_fen: number;
    file_lines: number;
    file_fen: number;
    balanced: boolean;
  };
  imported_by: string;
  imported_at: string;
  replayed: boolean;
}
interface ReturnException {
  id: string;
  batch_id: string;
  return_id: string;
  row_no: number;
  reference: string;
  kind: string;
  amount_fen: number;
  result: 'paid' | 'failed';
  reason: string | null;
  status: 'open' | 'resolved';
  resolution_note: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
}
interface SummaryFields {
  lines: number;
  due_fen: number;
  paid: number;
  paid_fen: number;
  failed: number;
  failed_fen: number;
  pending: number;
  project_fen: number;
  accuracy: string | null;
}
interface Summary {
  division: number;
  group_by: string;
  period: string | null;
  rows: (SummaryFields & { code: number; name: string | null; period: string })[];
  total: SummaryFields;
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

// ── The app, counties, tokens ──────────────────────────────────────────────────────────────────

let t: TestApp;
/** The seed-000 county (9,868 persons). */
let SEED: number;
/** A county whose batch goes through every route. */
let FLOW: number;
/** A county of persons with every kind of history, payment mode and window (the table test). */
let ENT: number;
/** Two counties registering the same national ID. */
let DUP_A: number;
let DUP_B: number;
/** A county without persons (an empty batch). */
let EMPTY: number;
/** Two counties registering the same national ID whose batches are computed at the same time. */
let CON_A: number;
let CON_B: number;

const cityOf = (county: number) => county - (county % 100);
const provinceOf = (code: number) => code - (code % 10_000);

/**
 * Counties in distinct cities where nobody has data (persons, localities, batches, payment modes in
 * any county of the city), in provinces without stored policy, away from the provinces other test
 * files write policy or batches in (11, 36, 42, 53) and from 新疆 (65, another removal rule).
 */
async function freshCounties(n: number): Promise<number[]> {
  const rows = rowsOf<{ code: number }>(
    await t.admin.orm.execute(sql`
      WITH used AS (
        SELECT DISTINCT division_code / 100 AS city FROM persons
        UNION SELECT DISTINCT division_code / 100 FROM localities
        UNION SELECT DISTINCT division_code / 100 FROM payment_batches
        UNION SELECT DISTINCT division_code / 100 FROM payment_mode_settings
      ), candidates AS (
        SELECT DISTINCT ON (d.code / 100) d.code, random() AS r
        FROM divisions d
        WHERE d.level = 'county' AND d.code / 10000 NOT IN (11, 36, 42, 53, 65) AND (d.code / 100) % 100 <> 90
          AND d.code / 100 NOT IN (SELECT city FROM used)
          AND EXISTS (SELECT 1 FROM divisions c WHERE c.code = d.code / 100 * 100 AND c.level = 'city')
          AND NOT EXISTS (SELECT 1 FROM policy_overrides o WHERE o.division_code = d.code / 10000 * 10000)
        ORDER BY d.code / 100, random()
      )
      SELECT code FROM candidates ORDER BY r LIMIT ${n}`),
  );
  return rows.map((r) => Number(r.code));
}

const tokens = new Map<string, Promise<string>>();
function token(division: number, roles: Role[], sub: string): Promise<string> {
  const key = `${division}|${roles.join(',')}|${sub}`;
  let value = tokens.get(key);
  if (!value) {
    value = t.token(division, roles, sub);
    tokens.set(key, value);
  }
  return value;
}
const clerkSub = (county: number, n = 1) => `user:disb:clerk${n}:${county}`;
const approverSub = (county: number, n = 1) => `user:disb:approver${n}:${county}`;
const bothSub = (county: number) => `user:disb:both:${county}`;
const clerk = (county: number, n = 1) => token(county, ['county_operator'], clerkSub(county, n));
const approver = (county: number, n = 1) => token(county, ['county_approver'], approverSub(county, n));
/** A user holding both county roles (maker-checker is about the person, not the role). */
const both = (county: number) => token(county, ['county_operator', 'county_approver'], bothSub(county));
const provinceAdmin = (code: number) =>
  token(provinceOf(code), ['province_admin'], `user:disb:province:${provinceOf(code)}`);
const cityReviewer = (code: number) =>
  token(cityOf(code), ['city_reviewer'], `user:disb:city:${cityOf(code)}`);

beforeAll(async () => {
  t = await createTestApp();
  const counties = await freshCounties(8);
  expect(counties).toHaveLength(8);
  [SEED, FLOW, ENT, DUP_A, DUP_B, EMPTY, CON_A, CON_B] = counties as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
});
afterAll(() => t.close());

// ── Helpers ────────────────────────────────────────────────────────────────────────────────────

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const EMPTY_HASH = sha256('');
/** A 19-digit bank account, unique per county, index and series. */
const account = (county: number, i: number, series = 0) =>
  `62${series}8${county}${String(i).padStart(9, '0')}`;
const lineRef = (batchNo: string, n: number) => `${batchNo}-${String(n).padStart(7, '0')}`;

/** Full national IDs and bank accounts made here: never in a JSON body. */
const secrets: string[] = [];
const FULL_ID = /(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])/;
function expectNoSecrets(text: string, what: string) {
  expect(text, `${what} holds an 18-character ID`).not.toMatch(FULL_ID);
  for (const s of secrets) expect(text.includes(s), `${what} leaks ${s}`).toBe(false);
}

const get = (path: string, as: string) => t.call('GET', path, { token: as });
const post = (path: string, as: string, body?: unknown, headers: Record<string, string> = {}) =>
  t.call('POST', path, { token: as, ...(body === undefined ? {} : { body }), headers });

/** Asserts the status (showing the body when it differs) and returns the JSON body. */
async function ok<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const create = (as: string, body: Record<string, unknown>, key: string = randomUUID()) =>
  post('/v1/disbursements', as, body, { 'idempotency-key': key });

async function batch(id: string, as: string): Promise<Detail> {
  return ok<Detail>(await get(`/v1/disbursements/${id}`, as));
}

/** Creates a regular batch, runs the job, returns the computed batch. */
async function prepare(county: number, period: string, as?: string): Promise<Detail> {
  const created = await ok<Batch>(await create(as ?? (await clerk(county)), { period }), 202);
  await t.jobs.runUntilIdle();
  return batch(created.id, await clerk(county));
}

/** Every item of a paginated list (pages of 200). */
async function allPages<T>(path: string, as: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: Page<T> = await ok<Page<T>>(
      await get(`${path}${sep}limit=200${cursor ? `&cursor=${cursor}` : ''}`, as),
    );
    out.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

const approve = (id: string, as: string, contentHash: string | null, extra: Record<string, unknown> = {}) =>
  post(`/v1/disbursements/${id}/approve`, as, { content_hash: contentHash, ...extra });

const bankFile = (id: string, as: string, format: 'csv' | 'fixed' = 'csv', reason = '报送农村信用社代发') =>
  post(`/v1/disbursements/${id}/bank-file`, as, { format, reason });

/** The data records of a CSV bank file: [reference, name, account, bank, yuan]. */
function csvBankRecords(text: string): { header: string; records: string[][]; trailer: string } {
  const rows = text.replace(/^\ufeff/, '').split('\r\n');
  expect(rows.at(-1)).toBe('');
  expect(rows[1]).toBe('参考号,姓名,银行账号,开户银行,金额(元)');
  return { header: rows[0]!, records: rows.slice(2, -2).map((r) => r.split(',')), trailer: rows.at(-2)! };
}

type ReturnRow = [reference: string, yuan: string, result: string, reason?: string];
const returnFile = (rows: ReturnRow[]) =>
  `${['参考号,金额(元),结果,失败原因', ...rows.map(([ref, yuan, result, reason]) => [ref, yuan, result, reason ?? ''].join(','))].join('\r\n')}\r\n`;
const importReturn = (id: string, as: string, csv: string, filename?: string) =>
  t.call(
    'POST',
    `/v1/disbursements/${id}/returns${filename ? `?filename=${encodeURIComponent(filename)}` : ''}`,
    { token: as, body: csv, headers: { 'content-type': 'text/csv' } },
  );

/** Rows of a query run as the county (row-level security applies). */
async function asCounty<T>(county: number, query: SQL): Promise<T[]> {
  return withDivision(t.db, county, async (tx) => rowsOf<T>(await tx.execute(query)));
}

/** The messages (with causes) of a statement that must fail. */
async function failure(p: Promise<unknown>): Promise<string> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  expect(error, 'the statement should have failed').toBeDefined();
  const messages: string[] = [];
  let e: unknown = error;
  while (e instanceof Error) {
    messages.push(e.message);
    e = e.cause;
  }
  return messages.join(' | ');
}

/**
 * The content hash as docs/subsidy.md defines it, from the lines as the API shows them and the
 * sealed accounts of the persons (just computed: the line's sealed account is the person's).
 */
async function expectedHash(county: number, lines: Line[]): Promise<string> {
  const sealed = new Map(
    (
      await asCounty<{ id: string; sealed: Uint8Array }>(
        county,
        sql`SELECT id::text AS id, bank_account_sealed AS sealed FROM persons
          WHERE division_code = ${county} AND bank_account_sealed IS NOT NULL`,
      )
    ).map((r) => [r.id, sha256(r.sealed)]),
  );
  return sha256(
    lines
      .map((l) =>
        [
          l.reference,
          l.national_id_masked,
          l.name,
          l.bank_account_masked,
          l.amount_fen,
          sealed.get(l.person_id),
        ].join('|'),
      )
      .join('\n'),
  );
}

/** Records a new bank account through PATCH /v1/persons/{id} (If-Match from a read). */
async function setAccount(county: number, personId: string, acct: string) {
  const as = await clerk(county);
  const read = await get(`/v1/persons/${personId}`, as);
  expect(read.status).toBe(200);
  const res = await t.call('PATCH', `/v1/persons/${personId}`, {
    token: as,
    body: { bank_name: '农村商业银行', bank_account: acct },
    headers: { 'if-match': read.headers.get('etag') as string },
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

interface EventSpec {
  kind: PersonEventKind;
  date: string;
  reason?: RemovalReason;
  /** Index (in the same list) of the event a correction voids. */
  corrects?: number;
}

/** Appends events to a person's history as the county (as registry.test.ts does). */
async function addEvents(county: number, personId: string, events: EventSpec[]) {
  await withDivision(t.db, county, async (tx) => {
    const ids: string[] = [];
    for (const e of events) {
      const id = randomUUID();
      await tx.execute(sql`
        INSERT INTO person_events (division_code, id, person_id, kind, effective_date, reason, destination_code,
                                   corrects_id, evidence_ref, recorded_by)
        VALUES (${county}, ${id}::uuid, ${personId}::uuid, ${e.kind}, ${e.date}::date, ${e.reason ?? null},
                ${e.kind === 'moved_out' ? 110101 : null}, ${e.corrects === undefined ? null : ids[e.corrects]}::uuid,
                '证明材料', 'test:disbursements')`);
      ids.push(id);
    }
  });
}

/** A submitted annual verification 年度核定 (what POST /v1/registry/verifications records). */
async function submitVerification(county: number, year: number, submittedAt: string) {
  await withDivision(t.db, county, (tx) =>
    tx.execute(sql`
      INSERT INTO registry_verifications (division_code, year, previous_count, previous_source, deaths, removals,
                                          moved_out, moved_in, re_registered, verified_count, submitted_by, submitted_at)
      VALUES (${county}, ${year}, 20, 'records', 0,
              '{"civil_servant":0,"non_agricultural_hukou":0,"imprisonment":0,"other":0}'::jsonb, 0, 0, 0, 20,
              'test:disbursements', ${submittedAt}::timestamptz)`),
  );
}

// ── The table test: the batch against entitlement() ────────────────────────────────────────────

type Outcome =
  | { line: true; cash: number; project: number }
  | { line: false; status: string; reasons: string[]; amount: number; project: number };

const outcomeText = (o: Outcome) =>
  o.line
    ? `paid ${o.cash}${o.project ? ` + ${o.project} project` : ''}`
    : `${o.reasons.join('+')}${o.project ? ` → ${o.project} project` : ''}`;

/**
 * Every person of the county as the batch treats them (a line, or an exclusion with its reasons)
 * equals `entitlement()` computed from the same inputs read back from the database: the person's
 * dates, events, account, village payment mode, the county's verifications, whether the ID has a
 * live line of the period elsewhere, and the policy the batch recorded. Returns name → outcome.
 */
async function mirror(b: Detail, county: number): Promise<Record<string, string>> {
  const as = await clerk(county);
  const lines = await allPages<Line>(`/v1/disbursements/${b.id}/lines`, as);
  const exclusions = await allPages<Exclusion>(`/v1/disbursements/${b.id}/exclusions`, as);
  const policy = b.policy as NonNullable<Batch['policy']>;
  const value = <T>(id: string) => policy[id]?.value as T;
  const period = parsePeriod(b.period);

  const persons = await asCounty<{
    id: string;
    name: string;
    registered_on: string;
    relocation_date: string;
    has_account: boolean;
    village_code: string | number;
  }>(
    county,
    sql`SELECT p.id::text AS id, p.name, p.registered_on::text AS registered_on,
          p.relocation_date::text AS relocation_date, p.bank_account_sealed IS NOT NULL AS has_account,
          h.village_code
        FROM persons p JOIN households h ON h.division_code = p.division_code AND h.id = p.household_id
        WHERE p.division_code = ${county}`,
  );
  const events = await asCounty<{
    id: string;
    person_id: string;
    kind: PersonEventKind;
    effective_date: string;
    reason: RemovalReason | null;
    corrects_id: string | null;
    recorded_at: string;
  }>(
    county,
    sql`SELECT id::text AS id, person_id::text AS person_id, kind, effective_date::text AS effective_date, reason,
          corrects_id::text AS corrects_id,
          to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at
        FROM person_events WHERE division_code = ${county}`,
  );
  const reviews = Object.fromEntries(
    (
      await asCounty<{ year: number; submitted: string }>(
        county,
        sql`SELECT year, to_char(submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS submitted
          FROM registry_verifications WHERE division_code = ${county}`,
      )
    ).map((r) => [Number(r.year), r.submitted]),
  );
  const modes = await asCounty<{
    locality: string | number;
    effective_from: string;
    mode: PaymentModeSetting['mode'];
    cash_percent: number;
  }>(
    county,
    sql`SELECT locality_code AS locality, effective_from::text AS effective_from, mode, cash_percent
        FROM payment_mode_settings WHERE division_code = ${county}`,
  );
  const modesOf = (locality: number): PaymentModeEntry[] =>
    modes
      .filter((m) => Number(m.locality) === locality)
      .map((m) => ({
        from: m.effective_from,
        setting: { mode: m.mode, cashPercent: Number(m.cash_percent) },
      }));
  // Paid for the period already: a live line of another batch under the same ID hash, any county.
  const paidElsewhere = new Set(
    rowsOf<{ id: string }>(
      await t.admin.orm.execute(sql`SELECT p.id::text AS id FROM persons p WHERE p.division_code = ${county}
        AND EXISTS (SELECT 1 FROM payment_lines l WHERE l.id_hash = p.id_hash AND l.period = ${b.period}
                      AND l.outcome <> 'failed' AND l.batch_id <> ${b.id}::uuid)`),
    ).map((r) => r.id),
  );

  const lineOf = new Map(lines.map((l) => [l.person_id, l]));
  const exclusionOf = new Map(exclusions.map((x) => [x.person_id, x]));
  expect(lines.length + exclusions.length).toBe(persons.length);
  const expected: Record<string, Outcome> = {};
  const actual: Record<string, Outcome> = {};
  for (const p of persons) {
    const history: PersonEvent[] = events
      .filter((e) => e.person_id === p.id)
      .map((e) => ({
        id: e.id,
        kind: e.kind,
        effectiveDate: e.effective_date,
        reason: e.reason,
        correctsId: e.corrects_id,
        recordedAt: e.recorded_at,
      }));
    const e = entitlement({
      period,
      registeredOn: p.registered_on,
      relocationDate: p.relocation_date,
      events: history,
      removalRule: value<RemovalEffectiveRule>('registry.removal_effective'),
      annualReviews: reviews,
      hasBankAccount: p.has_account === true || String(p.has_account) === 't',
      alreadyPaid: paidElsewhere.has(p.id),
      policy: {
        annualStandardFen: value<number>('subsidy.annual_standard'),
        frequency: value<PaymentFrequency>('subsidy.payment_frequency'),
        supportWindow: value<SupportWindowRule>('subsidy.support_window'),
        paymentMode: resolvePaymentMode(
          period.start,
          modesOf(Number(p.village_code)),
          modesOf(0),
          value<PaymentModeSetting>('subsidy.payment_mode'),
        ),
      },
    });
    expected[p.name] = e.eligible
      ? { line: true, cash: e.cashFen, project: e.projectFen }
      : { line: false, status: e.status, reasons: e.reasons, amount: e.amountFen, project: e.projectFen };
    const l = lineOf.get(p.id);
    const x = exclusionOf.get(p.id);
    expect(l === undefined, `${p.name}: a line or an exclusion, not both`).toBe(x !== undefined);
    actual[p.name] = l
      ? { line: true, cash: l.amount_fen, project: l.project_fen }
      : {
          line: false,
          status: x?.status as string,
          reasons: x?.reasons as string[],
          amount: x?.amount_fen as number,
          project: x?.project_fen as number,
        };
  }
  expect(actual).toEqual(expected);
  // The batch's totals are the sums of the same outcomes.
  const outcomes = Object.values(actual);
  expect(b.lines).toBe(lines.length);
  expect(b.excluded).toBe(exclusions.length);
  expect(b.total_fen).toBe(outcomes.reduce((s, o) => s + (o.line ? o.cash : 0), 0));
  expect(b.project_fen).toBe(outcomes.reduce((s, o) => s + o.project, 0));
  return Object.fromEntries(Object.entries(actual).map(([name, o]) => [name, outcomeText(o)]));
}

// ── Seed 000 ───────────────────────────────────────────────────────────────────────────────────

describe('seed 000: 9,868 persons, semi-annual 2013-H1', () => {
  it('9,868 lines, 296,040,000 fen (2,960,400 yuan); a return file with every line paid → 100.00 %, closed', async () => {
    const { villages } = await makeTownship(t.db, SEED, 4);
    const specs = Array.from({ length: 9_868 }, (_, i) => ({
      village: villages[Math.floor(i / 2_467)]!.code,
      bankAccount: account(SEED, i),
    }));
    await makePersons(t, SEED, specs);

    const b = await prepare(SEED, '2013-H1');
    expect(b).toMatchObject({
      batch_no: `${SEED}-2013-H1-01`,
      status: 'draft',
      lines: 9_868,
      total_fen: 296_040_000,
      project_fen: 0,
      excluded: 0,
      exclusion_reasons: {},
    });
    expect(await ok(await approve(b.id, await approver(SEED), b.content_hash), 200)).toMatchObject({
      status: 'approved',
    });

    const file = await bankFile(b.id, await clerk(SEED));
    expect(file.status).toBe(200);
    const { header, records, trailer } = csvBankRecords(await file.text());
    expect(header).toBe(
      `批次号,${b.batch_no},期间,2013-H1,笔数,9868,金额合计(元),2960400.00,批次校验码,${b.content_hash}`,
    );
    expect(trailer).toBe('合计,,,9868,2960400.00');
    expect(records).toHaveLength(9_868);
    expect(new Set(records.map((r) => r[2])).size).toBe(9_868);

    const csv = returnFile(records.map((r): ReturnRow => [r[0]!, r[4]!, '成功']));
    const ret = await ok<BankReturn>(await importReturn(b.id, await clerk(SEED), csv), 201);
    expect(ret).toMatchObject({
      rows: 9_868,
      paid: 9_868,
      failed: 0,
      paid_fen: 296_040_000,
      failed_fen: 0,
      exceptions: 0,
      control: {
        expected_lines: 9_868,
        expected_fen: 296_040_000,
        file_lines: 9_868,
        file_fen: 296_040_000,
        balanced: true,
      },
      replayed: false,
    });
    const closed = await batch(b.id, await clerk(SEED));
    expect(closed).toMatchObject({
      status: 'closed',
      outcomes: {
        pending: 0,
        paid: 9_868,
        failed: 0,
        paid_fen: 296_040_000,
        unresolved_failed: 0,
        open_exceptions: 0,
        accuracy: '100.00',
      },
    });
    expect(closed.closed_at).not.toBeNull();

    // The city sees the county's row in its summary.
    const summary = await ok<Summary>(
      await get(
        `/v1/disbursements/summary?division=${cityOf(SEED)}&period=2013-H1`,
        await cityReviewer(SEED),
      ),
    );
    expect(summary.rows).toEqual([
      expect.objectContaining({
        code: SEED,
        lines: 9_868,
        due_fen: 296_040_000,
        paid: 9_868,
        paid_fen: 296_040_000,
        pending: 0,
        accuracy: '100.00',
      }),
    ]);
  }, 120_000);
});

// ── One county through every route ─────────────────────────────────────────────────────────────

interface FlowPerson {
  id: string;
  nationalId: string;
  name: string;
  account: string | null;
  village: number;
}
/** What later describes reuse of the flow county. */
const flow = {
  batchId: '',
  batchNo: '',
  hash: '',
  h2: '',
  reissueId: '',
  exceptionId: '',
  lines: [] as Line[],
  people: [] as FlowPerson[],
};
/** The first line reference of the flow batch. */
const ref1 = () => flow.lines[0]?.reference as string;

describe('one county’s batch through every route', () => {
  let v1: number;
  let v2: number;
  let firstHash: string;
  const ref = (n: number) => flow.lines[n - 1]!.reference;
  const personOf = (id: string) => flow.people.find((p) => p.id === id) as FlowPerson;

  beforeAll(async () => {
    const made = await makeTownship(t.db, FLOW, 2);
    [v1, v2] = made.villages.map((v) => v.code) as [number, number];
    // 12 persons with accounts (7 in the first village, 5 in the second) and one without.
    const specs = Array.from({ length: 13 }, (_, i) => ({
      village: i < 7 || i === 12 ? v1 : v2,
      name: `流程${String(i + 1).padStart(2, '0')}`,
      ...(i < 12 ? { bankAccount: account(FLOW, i) } : {}),
    }));
    const { ids, nationalIds } = await makePersons(t, FLOW, specs);
    flow.people = specs.map((s, i) => ({
      id: ids[i]!,
      nationalId: nationalIds[i]!,
      name: s.name,
      account: s.bankAccount ?? null,
      village: s.village,
    }));
    for (const p of flow.people) secrets.push(p.nationalId, ...(p.account ? [p.account] : []));
  });

  it('POST creates a computing batch (202, Location, job); the same Idempotency-Key replays it', async () => {
    const key = randomUUID();
    const body = { period: '2013-H1', note: '2013年上半年直补' };
    const res = await create(await clerk(FLOW), body, key);
    const created = await ok<Batch>(res, 202);
    expect(res.headers.get('location')).toBe(`/v1/disbursements/${created.id}`);
    expect(created).toMatchObject({
      batch_no: `${FLOW}-2013-H1-01`,
      county_code: FLOW,
      period: '2013-H1',
      period_start: '2013-01-01',
      period_end: '2013-06-30',
      kind: 'regular',
      source_batch_id: null,
      status: 'computing',
      note: '2013年上半年直补',
      lines: 0,
      total_fen: 0,
      content_hash: null,
      prepared_by: clerkSub(FLOW),
      approved_by: null,
    });
    expect(created.county_name).toBeTruthy();
    expect(created.job.id).toMatch(UUID);
    expect(created.links).toEqual({
      self: `/v1/disbursements/${created.id}`,
      job: `/v1/jobs/${created.job.id}`,
      lines: `/v1/disbursements/${created.id}/lines`,
      exclusions: `/v1/disbursements/${created.id}/exclusions`,
    });

    const replay = await create(await clerk(FLOW), body, key);
    expect(replay.status).toBe(202);
    expect(replay.headers.get('location')).toBe(`/v1/disbursements/${created.id}`);
    expect((await json<Batch>(replay)).id).toBe(created.id);
    // The key with another body: 422, nothing created.
    const reused = await create(await clerk(FLOW), { period: '2013-H2' }, key);
    expect(reused.status).toBe(422);
    const list = await ok<Page<Batch>>(await get(`/v1/disbursements?county=${FLOW}`, await clerk(FLOW)));
    expect(list.data.map((b) => b.id)).toEqual([created.id]);
    flow.batchId = created.id;
    flow.batchNo = created.batch_no;
  });

  it('the job computes a draft: exact totals, the policy used, lines in village order, the content hash', async () => {
    await t.jobs.runUntilIdle();
    const b = await batch(flow.batchId, await clerk(FLOW));
    expect(b).toMatchObject({
      status: 'draft',
      lines: 12,
      total_fen: 360_000,
      project_fen: 0,
      excluded: 1,
      exclusion_reasons: { no_bank_account: 1 },
      outcomes: {
        pending: 12,
        paid: 0,
        failed: 0,
        paid_fen: 0,
        failed_fen: 0,
        unresolved_failed: 0,
        open_exceptions: 0,
        accuracy: '0.00',
      },
    });
    expect(b.computed_at).not.toBeNull();
    expect(b.content_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.policy?.['subsidy.annual_standard']).toEqual({
      from: '2006-07-01',
      value: 60_000,
      source: '国发〔2006〕17号',
      level: 'national',
    });
    expect(b.policy?.['subsidy.payment_frequency']).toMatchObject({ value: 'semi_annual' });
    expect(b.policy?.['registry.removal_effective']).toMatchObject({ value: 'annual_review' });

    const job = await ok<{ status: string; result: Record<string, unknown> }>(
      await get(b.links.job as string, await clerk(FLOW)),
    );
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({
      batch_id: b.id,
      lines: 12,
      total_fen: 360_000,
      excluded: 1,
      content_hash: b.content_hash,
    });

    const lines = await allPages<Line>(`/v1/disbursements/${b.id}/lines`, await clerk(FLOW));
    expect(lines.map((l) => l.line_no)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(lines.map((l) => l.reference)).toEqual(lines.map((l) => lineRef(b.batch_no, l.line_no)));
    expect(lines.map((l) => l.village_code)).toEqual([...Array(7).fill(v1), ...Array(5).fill(v2)]);
    expect(new Set(lines.map((l) => l.person_id)).size).toBe(12);
    for (const l of lines) {
      const p = personOf(l.person_id);
      expect(l).toMatchObject({
        batch_id: b.id,
        batch_no: b.batch_no,
        period: '2013-H1',
        name: p.name,
        national_id_masked: maskNationalId(p.nationalId),
        village_code: p.village,
        bank_name: '农村信用社',
        bank_account_masked: maskBankAccount(p.account as string),
        amount_fen: 30_000,
        project_fen: 0,
        reissue_of: null,
        outcome: 'pending',
        resolution: null,
      });
    }
    expect(await expectedHash(FLOW, lines)).toBe(b.content_hash);
    firstHash = b.content_hash as string;
  });

  it('lines: outcome and village filters, paging by cursor; a bad cursor or village → 400', async () => {
    const as = await clerk(FLOW);
    const base = `/v1/disbursements/${flow.batchId}/lines`;
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page<Line> = await ok<Page<Line>>(
        await get(`${base}?limit=5${cursor ? `&cursor=${cursor}` : ''}`, as),
      );
      seen.push(...page.data.map((l) => l.line_no));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));

    const second = await ok<Page<Line>>(await get(`${base}?village=${v2}`, as));
    expect(second.data.map((l) => l.village_code)).toEqual(Array(5).fill(v2));
    expect((await ok<Page<Line>>(await get(`${base}?outcome=pending`, as))).data).toHaveLength(12);
    expect((await ok<Page<Line>>(await get(`${base}?outcome=paid`, as))).data).toEqual([]);
    expect((await ok<Page<Line>>(await get(`${base}?unresolved=true`, as))).data).toEqual([]);

    const badCursor = await get(`${base}?cursor=bm9wZQ`, as);
    expect(badCursor.status).toBe(400);
    expect(fields(await problem(badCursor))).toContain('query.cursor');
    expect((await get(`${base}?village=12`, as)).status).toBe(400);
    expect((await get(`${base}?outcome=lost`, as)).status).toBe(400);
  });

  it('exclusions: the person without an account, with the reason filter', async () => {
    const as = await clerk(FLOW);
    const base = `/v1/disbursements/${flow.batchId}/exclusions`;
    const holder = flow.people[12] as FlowPerson;
    expect((await ok<Page<Exclusion>>(await get(base, as))).data).toEqual([
      {
        person_id: holder.id,
        name: holder.name,
        national_id_masked: maskNationalId(holder.nationalId),
        village_code: v1,
        status: 'registered',
        reasons: ['no_bank_account'],
        amount_fen: 30_000,
        project_fen: 0,
      },
    ]);
    expect((await ok<Page<Exclusion>>(await get(`${base}?reason=no_bank_account`, as))).data).toHaveLength(1);
    expect((await ok<Page<Exclusion>>(await get(`${base}?reason=deceased`, as))).data).toEqual([]);
    expect((await get(`${base}?reason=bored`, as)).status).toBe(400);
  });

  it('a second regular batch for the same county and period → 409', async () => {
    const res = await create(await clerk(FLOW), { period: '2013-H1' });
    expect(res.status).toBe(409);
    expect((await problem(res)).code).toBe('conflict');
  });

  it('period and body errors: 422 naming period (other frequency, not begun), 400 for the rest', async () => {
    const as = await clerk(FLOW);
    for (const period of ['2013-Q1', '2013-03', '2013']) {
      const res = await create(as, { period });
      expect(res.status, period).toBe(422);
      const body = await problem(res);
      expect(body.code).toBe('unprocessable');
      expect(fields(body), period).toEqual(['period']);
      expect(body.detail).toContain('semi_annual');
    }
    const future = await create(as, { period: '2027-H1' });
    expect(future.status).toBe(422);
    expect(fields(await problem(future))).toEqual(['period']);

    const cases: [Record<string, unknown>, string][] = [
      [{ period: '2013-H3' }, 'period'],
      [{ period: '2013-H1', amount_fen: 1 }, 'amount_fen'],
      [{ period: '2013-H1', kind: 'bonus' }, 'kind'],
      [{ period: '2013-H1', kind: 'reissue' }, 'source_batch_id'],
      [{ period: '2013-H1', source_batch_id: flow.batchId }, 'source_batch_id'],
      [{ period: '2013-H1', kind: 'reissue', source_batch_id: 'nope' }, 'source_batch_id'],
    ];
    for (const [body, field] of cases) {
      const res = await create(as, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fields(await problem(res)), JSON.stringify(body)).toContain(field);
    }
    const noKey = await post('/v1/disbursements', as, { period: '2013-H2' });
    expect(noKey.status).toBe(400);
    expect(fields(await problem(noKey))).toContain('header.idempotency-key');
    // Nothing was created by any of them.
    const list = await ok<Page<Batch>>(await get(`/v1/disbursements?county=${FLOW}`, as));
    expect(list.data.map((b) => b.id)).toEqual([flow.batchId]);
  });

  it('cancel: a draft is given up (lines gone) and the period prepared again; computing or cancelled → 409', async () => {
    const as = await clerk(FLOW);
    const h2 = await prepare(FLOW, '2013-H2');
    expect(h2).toMatchObject({ batch_no: `${FLOW}-2013-H2-01`, status: 'draft', lines: 12 });
    const cancelled = await ok<Batch>(await post(`/v1/disbursements/${h2.id}/cancel`, as));
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      lines: 0,
      total_fen: 0,
      excluded: 0,
      content_hash: null,
    });
    expect(cancelled.cancelled_at).not.toBeNull();
    expect((await ok<Page<Line>>(await get(`/v1/disbursements/${h2.id}/lines`, as))).data).toEqual([]);
    expect((await ok<Page<Exclusion>>(await get(`/v1/disbursements/${h2.id}/exclusions`, as))).data).toEqual(
      [],
    );
    expect((await post(`/v1/disbursements/${h2.id}/cancel`, as)).status).toBe(409);
    expect((await post(`/v1/disbursements/${h2.id}/recompute`, as)).status).toBe(409);

    const again = await ok<Batch>(await create(as, { period: '2013-H2' }), 202);
    expect(again.batch_no).toBe(`${FLOW}-2013-H2-02`);
    const whileComputing = await post(`/v1/disbursements/${again.id}/cancel`, as);
    expect(whileComputing.status).toBe(409);
    expect((await problem(whileComputing)).code).toBe('conflict');
    await t.jobs.runUntilIdle();
    expect((await batch(again.id, as)).status).toBe('draft');
    flow.h2 = again.id;

    const audited = rowsOf<{ action: string }>(
      await t.admin.orm.execute(sql`SELECT action FROM audit_events
        WHERE division_code = ${FLOW} AND entity_type = 'payment_batch' AND entity_id = ${h2.id} ORDER BY seq`),
    ).map((r) => r.action);
    expect(audited).toEqual(['disbursement.create', 'disbursement.compute', 'disbursement.cancel']);
  });

  it('list: by batch number, filtered by county, period, status and kind, paged by cursor', async () => {
    const as = await clerk(FLOW);
    const nos = async (query: string) =>
      (await ok<Page<Batch>>(await get(`/v1/disbursements?${query}`, as))).data.map((b) => b.batch_no);
    const h1 = `${FLOW}-2013-H1-01`;
    const h2a = `${FLOW}-2013-H2-01`;
    const h2b = `${FLOW}-2013-H2-02`;
    expect(await nos(`county=${FLOW}`)).toEqual([h1, h2a, h2b]);
    expect(await nos('')).toEqual([h1, h2a, h2b]);
    expect(await nos('period=2013-H2')).toEqual([h2a, h2b]);
    expect(await nos('status=cancelled')).toEqual([h2a]);
    expect(await nos(`county=${FLOW}&status=draft`)).toEqual([h1, h2b]);
    expect(await nos('kind=reissue')).toEqual([]);
    expect(await nos('kind=regular&period=2013-H1')).toEqual([h1]);
    expect(await nos(`county=${DUP_A}`)).toEqual([]);

    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<Batch> = await ok<Page<Batch>>(
        await get(`/v1/disbursements?limit=1${cursor ? `&cursor=${cursor}` : ''}`, as),
      );
      expect(page.data.length).toBeLessThanOrEqual(1);
      paged.push(...page.data.map((b) => b.batch_no));
      cursor = page.next_cursor;
    } while (cursor);
    expect(paged).toEqual([h1, h2a, h2b]);
    expect((await get('/v1/disbursements?status=lost', as)).status).toBe(400);
    expect((await get('/v1/disbursements?period=2013-H9', as)).status).toBe(400);
  });

  it('recompute after an account is recorded: lines replaced, new hash, the recomputing clerk prepares it', async () => {
    const holder = flow.people[12] as FlowPerson;
    holder.account = account(FLOW, 12);
    secrets.push(holder.account);
    await setAccount(FLOW, holder.id, holder.account);

    const started = await ok<Batch>(
      await post(`/v1/disbursements/${flow.batchId}/recompute`, await both(FLOW), undefined, {
        'idempotency-key': randomUUID(),
      }),
      202,
    );
    expect(started).toMatchObject({
      status: 'computing',
      prepared_by: bothSub(FLOW),
      lines: 0,
      content_hash: null,
    });
    expect((await post(`/v1/disbursements/${flow.batchId}/recompute`, await clerk(FLOW))).status).toBe(409);
    await t.jobs.runUntilIdle();

    const b = await batch(flow.batchId, await clerk(FLOW));
    expect(b).toMatchObject({
      status: 'draft',
      lines: 13,
      total_fen: 390_000,
      excluded: 0,
      exclusion_reasons: {},
      prepared_by: bothSub(FLOW),
    });
    expect(b.content_hash).not.toBe(firstHash);
    const lines = await allPages<Line>(`/v1/disbursements/${b.id}/lines`, await clerk(FLOW));
    expect(lines.map((l) => l.line_no)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(lines.map((l) => l.village_code)).toEqual([...Array(8).fill(v1), ...Array(5).fill(v2)]);
    expect(lines.find((l) => l.person_id === holder.id)).toMatchObject({
      bank_name: '农村商业银行',
      bank_account_masked: maskBankAccount(holder.account),
    });
    expect(await expectedHash(FLOW, lines)).toBe(b.content_hash);
    expect(
      (await ok<Page<Exclusion>>(await get(`/v1/disbursements/${b.id}/exclusions`, await clerk(FLOW)))).data,
    ).toEqual([]);
    flow.hash = b.content_hash as string;
    flow.lines = lines;
  });

  it('maker-checker: the preparer (holding the approver role too) → 403, a stale hash → 409, a clerk → 403', async () => {
    const self = await approve(flow.batchId, await both(FLOW), flow.hash);
    expect(self.status).toBe(403);
    expect((await problem(self)).code).toBe('forbidden');
    const stale = await approve(flow.batchId, await approver(FLOW), firstHash);
    expect(stale.status).toBe(409);
    expect((await problem(stale)).detail).toMatch(/content hash/);
    expect((await approve(flow.batchId, await clerk(FLOW), flow.hash)).status).toBe(403);
    const malformed = await approve(flow.batchId, await approver(FLOW), flow.hash.toUpperCase());
    expect(malformed.status).toBe(400);
    expect(fields(await problem(malformed))).toEqual(['content_hash']);
    const unknown = await approve(flow.batchId, await approver(FLOW), flow.hash, { approved: true });
    expect(unknown.status).toBe(400);
    expect(fields(await problem(unknown))).toEqual(['approved']);
    expect(await batch(flow.batchId, await clerk(FLOW))).toMatchObject({
      status: 'draft',
      approved_by: null,
    });
  });

  it('the database refuses approved_by = prepared_by even when the service is bypassed (CHECK)', async () => {
    const asCountyUpdate = (set: SQL) =>
      withDivision(t.db, FLOW, (tx) =>
        tx.execute(
          sql`UPDATE payment_batches SET ${set} WHERE division_code = ${FLOW} AND id = ${flow.batchId}::uuid`,
        ),
      );
    expect(await failure(asCountyUpdate(sql`approved_by = prepared_by, approved_at = now()`))).toMatch(
      /check constraint/i,
    );
    expect(
      await failure(asCountyUpdate(sql`status = 'approved', approved_by = prepared_by, approved_at = now()`)),
    ).toMatch(/check constraint/i);
    expect(await batch(flow.batchId, await clerk(FLOW))).toMatchObject({
      status: 'draft',
      approved_by: null,
      prepared_by: bothSub(FLOW),
    });
  });

  it('two approvers at once: exactly one 200 and one 409; then approve, recompute and cancel → 409', async () => {
    const first = await approver(FLOW, 1);
    const second = await approver(FLOW, 2);
    const [a, b] = await Promise.all([
      approve(flow.batchId, first, flow.hash, { note: '已审核' }),
      approve(flow.batchId, second, flow.hash, { note: '已审核' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const [winner, loser] = a.status === 200 ? [a, b] : [b, a];
    expect((await problem(loser)).code).toBe('conflict');
    const approved = await json<Batch>(winner);
    expect(approved).toMatchObject({
      status: 'approved',
      lines: 13,
      total_fen: 390_000,
      content_hash: flow.hash,
    });
    expect([approverSub(FLOW, 1), approverSub(FLOW, 2)]).toContain(approved.approved_by);
    expect(approved.approved_at).not.toBeNull();

    const as = await clerk(FLOW);
    expect((await approve(flow.batchId, await approver(FLOW), flow.hash)).status).toBe(409);
    expect((await post(`/v1/disbursements/${flow.batchId}/recompute`, as)).status).toBe(409);
    expect((await post(`/v1/disbursements/${flow.batchId}/cancel`, as)).status).toBe(409);
    // Not exported yet: no return file.
    expect((await importReturn(flow.batchId, as, returnFile([[ref(1), '300.00', '成功']]))).status).toBe(409);
    const approvals = rowsOf<{ actor_sub: string }>(
      await t.admin.orm.execute(sql`SELECT actor_sub FROM audit_events WHERE division_code = ${FLOW}
        AND entity_id = ${flow.batchId} AND action = 'disbursement.approve'`),
    );
    expect(approvals.map((r) => r.actor_sub)).toEqual([approved.approved_by]);
  });

  it('bank file (CSV): an approver cannot export; full accounts and control totals; the first download → exported', async () => {
    expect((await bankFile(flow.batchId, await approver(FLOW))).status).toBe(403);
    const bad = await post(`/v1/disbursements/${flow.batchId}/bank-file`, await clerk(FLOW), {
      format: 'pdf',
      reason: '报送',
    });
    expect(bad.status).toBe(400);
    expect(fields(await problem(bad))).toEqual(['format']);

    const res = await bankFile(flow.batchId, await clerk(FLOW), 'csv', '报送农村信用社代发');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain(`bank-${flow.batchNo}.csv`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const { header, records, trailer } = csvBankRecords(bytes.toString('utf8'));
    expect(header).toBe(
      `批次号,${flow.batchNo},期间,2013-H1,笔数,13,金额合计(元),3900.00,批次校验码,${flow.hash}`,
    );
    expect(trailer).toBe('合计,,,13,3900.00');
    expect(records).toEqual(
      flow.lines.map((l) => {
        const p = personOf(l.person_id);
        return [l.reference, p.name, p.account, l.bank_name, '300.00'];
      }),
    );
    const b = await batch(flow.batchId, await clerk(FLOW));
    expect(b.status).toBe('exported');
    expect(b.exported_at).not.toBeNull();
  });

  it('bank file (fixed width, GB18030): H, D and T records with the full accounts; exported_at stays', async () => {
    const before = await batch(flow.batchId, await clerk(FLOW));
    const res = await bankFile(flow.batchId, await clerk(FLOW), 'fixed', '补报代发文件');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=gb18030');
    expect(res.headers.get('content-disposition')).toContain(`bank-${flow.batchNo}.txt`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const h = fixedRecordBytes.H + 2;
    const d = fixedRecordBytes.D + 2;
    expect(bytes.length).toBe(h + 13 * d + fixedRecordBytes.T + 2);
    const head = bytes.subarray(0, h).toString('latin1');
    expect(head).toMatch(
      new RegExp(
        `^H${flow.batchNo.padEnd(24)}${'2013-H1'.padEnd(8)}${FLOW}${'13'.padStart(10, '0')}${'390000'.padStart(18, '0')}${flow.hash}\\d{8}\r\n$`,
      ),
    );
    const gb = new TextDecoder('gb18030');
    flow.lines.forEach((l, i) => {
      const rec = bytes.subarray(h + i * d, h + (i + 1) * d);
      expect(rec.subarray(0, 1).toString('latin1')).toBe('D');
      expect(rec.subarray(1, 31).toString('latin1').trimEnd()).toBe(l.reference);
      expect(rec.subarray(31, 63).toString('latin1').trimEnd()).toBe(personOf(l.person_id).account);
      expect(gb.decode(rec.subarray(63, 123)).trimEnd()).toBe(l.name);
      expect(rec.subarray(123, 138).toString('latin1')).toBe('000000000030000');
      expect(rec.subarray(-2).toString('latin1')).toBe('\r\n');
    });
    const tail = bytes.subarray(h + 13 * d).toString('latin1');
    expect(tail).toBe(`T${'13'.padStart(10, '0')}${'390000'.padStart(18, '0')}${flow.hash}\r\n`);
    const after = await batch(flow.batchId, await clerk(FLOW));
    expect(after).toMatchObject({ status: 'exported', exported_at: before.exported_at });
  });

  it('every download is audited with its reason (the refused ones are not)', async () => {
    const rows = rowsOf<{ actor_sub: string; changes: unknown }>(
      await t.admin.orm.execute(sql`SELECT actor_sub, changes FROM audit_events WHERE division_code = ${FLOW}
        AND entity_type = 'payment_batch' AND entity_id = ${flow.batchId} AND action = 'disbursement.export'
        ORDER BY seq`),
    ).map((r) => ({
      actor: r.actor_sub,
      changes: (typeof r.changes === 'string' ? JSON.parse(r.changes) : r.changes) as Record<
        string,
        { old: unknown; new: unknown }
      >,
    }));
    expect(rows.map((r) => [r.actor, r.changes.format?.new, r.changes.reason?.new])).toEqual([
      [clerkSub(FLOW), 'csv', '报送农村信用社代发'],
      [clerkSub(FLOW), 'fixed', '补报代发文件'],
    ]);
    for (const r of rows) {
      expect(r.changes).toMatchObject({
        lines: { new: 13 },
        total_fen: { new: 390_000 },
        content_hash: { new: flow.hash },
      });
      expectNoSecrets(JSON.stringify(r.changes), 'the export audit record');
    }
  });

  it('a return file with paid, failed, unknown, duplicate and mismatched rows: counts, exceptions, control', async () => {
    const rows: ReturnRow[] = [
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((n): ReturnRow => [ref(n), '300.00', '成功']),
      [ref(9), '300.00', '失败', '账户已销户'],
      [ref(10), '300.00', '失败', '户名不符'],
      [ref(11), '299.00', '成功'],
      [ref(1), '300.00', '成功'],
      [lineRef(flow.batchNo, 9_999), '300.00', '成功'],
    ];
    const csv = returnFile(rows);
    const ret = await ok<BankReturn>(
      await importReturn(flow.batchId, await clerk(FLOW), csv, '回盘-1.csv'),
      201,
    );
    expect(ret).toMatchObject({
      batch_id: flow.batchId,
      sha256: sha256(csv),
      filename: '回盘-1.csv',
      rows: 13,
      paid: 8,
      failed: 2,
      paid_fen: 240_000,
      failed_fen: 60_000,
      exceptions: 3,
      control: {
        expected_lines: 13,
        expected_fen: 390_000,
        file_lines: 11,
        file_fen: 329_900,
        balanced: false,
      },
      imported_by: clerkSub(FLOW),
      replayed: false,
    });
    const b = await batch(flow.batchId, await clerk(FLOW));
    expect(b).toMatchObject({
      status: 'reconciling',
      outcomes: {
        pending: 3,
        paid: 8,
        failed: 2,
        paid_fen: 240_000,
        failed_fen: 60_000,
        unresolved_failed: 2,
        open_exceptions: 3,
        accuracy: '61.54',
      },
    });
    const failed = await ok<Page<Line>>(
      await get(`/v1/disbursements/${flow.batchId}/lines?outcome=failed`, await clerk(FLOW)),
    );
    expect(failed.data.map((l) => [l.reference, l.outcome_reason, l.resolution])).toEqual([
      [ref(9), '账户已销户', null],
      [ref(10), '户名不符', null],
    ]);
    expect(failed.data.every((l) => l.outcome_at !== null)).toBe(true);
    const paid = await ok<Page<Line>>(
      await get(`/v1/disbursements/${flow.batchId}/lines?outcome=paid`, await clerk(FLOW)),
    );
    expect(paid.data.map((l) => l.line_no)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const exceptions = await ok<{ data: ReturnException[] }>(
      await get(`/v1/disbursements/${flow.batchId}/exceptions`, await clerk(FLOW)),
    );
    expect(
      exceptions.data.map((e) => [
        e.row_no,
        e.reference,
        e.kind,
        e.amount_fen,
        e.result,
        e.status,
        e.return_id,
      ]),
    ).toEqual([
      [12, ref(11), 'amount_mismatch', 29_900, 'paid', 'open', ret.id],
      [13, ref(1), 'duplicate_reference', 30_000, 'paid', 'open', ret.id],
      [14, lineRef(flow.batchNo, 9_999), 'unknown_reference', 30_000, 'paid', 'open', ret.id],
    ]);
  });

  const returnState = async () => {
    const [counts] = rowsOf<{ returns: number; exceptions: number; outcomes: string }>(
      await t.admin.orm.execute(sql`SELECT
        (SELECT count(*)::int FROM payment_returns WHERE batch_id = ${flow.batchId}::uuid) AS returns,
        (SELECT count(*)::int FROM payment_return_exceptions WHERE batch_id = ${flow.batchId}::uuid) AS exceptions,
        (SELECT string_agg(line_no || ':' || outcome || ':' || coalesce(outcome_return_id::text, '-'), ',' ORDER BY line_no)
           FROM payment_lines WHERE batch_id = ${flow.batchId}::uuid) AS outcomes`),
    );
    return counts;
  };

  it('the same file again: 200, replayed: true, the same counts, nothing changes', async () => {
    const before = await returnState();
    const csv = returnFile([
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((n): ReturnRow => [ref(n), '300.00', '成功']),
      [ref(9), '300.00', '失败', '账户已销户'],
      [ref(10), '300.00', '失败', '户名不符'],
      [ref(11), '299.00', '成功'],
      [ref(1), '300.00', '成功'],
      [lineRef(flow.batchNo, 9_999), '300.00', '成功'],
    ]);
    const replay = await ok<BankReturn>(
      await importReturn(flow.batchId, await clerk(FLOW), csv, 'again.csv'),
      200,
    );
    expect(replay).toMatchObject({
      rows: 13,
      paid: 8,
      failed: 2,
      exceptions: 3,
      filename: '回盘-1.csv',
      replayed: true,
      control: { file_lines: 11, balanced: false },
    });
    expect(await returnState()).toEqual(before);
    expect(before).toMatchObject({ returns: 1, exceptions: 3 });
  });

  it('a malformed file is refused whole (422 naming the rows), another media type → 415; nothing applied', async () => {
    const before = await returnState();
    const as = await clerk(FLOW);
    const badRows = await importReturn(
      flow.batchId,
      as,
      returnFile([
        [ref(12), '300.00', '成功'],
        [ref(13), '3OO.00', '成功'],
        [ref(11), '300.00', '也许'],
      ]),
    );
    expect(badRows.status).toBe(422);
    const body = await problem(badRows);
    expect(body.code).toBe('unprocessable');
    expect(fields(body)).toEqual(['row 3: amount', 'row 4: result']);

    const noResult = await importReturn(flow.batchId, as, `参考号,金额(元)\r\n${ref(12)},300.00\r\n`);
    expect(noResult.status).toBe(422);
    expect(fields(await problem(noResult))).toEqual(['row 1: result']);

    const asJson = await post(`/v1/disbursements/${flow.batchId}/returns`, as, { rows: [] });
    expect(asJson.status).toBe(415);
    expect(await returnState()).toEqual(before);
  });

  it('a second file: pending lines paid, a repeated result ignored, a contradicting one queued', async () => {
    const csv = returnFile([
      [ref(11), '300.00', '成功'],
      [ref(12), '300.00', 'success'],
      [ref(13), '300.00', '成功'],
      [ref(2), '300.00', '成功'],
      [ref(9), '300.00', '成功'],
    ]);
    const ret = await ok<BankReturn>(await importReturn(flow.batchId, await clerk(FLOW), csv), 201);
    expect(ret).toMatchObject({
      rows: 5,
      paid: 3,
      failed: 0,
      paid_fen: 90_000,
      exceptions: 1,
      filename: null,
      control: { expected_lines: 13, file_lines: 5, file_fen: 150_000, balanced: false },
      replayed: false,
    });
    const b = await batch(flow.batchId, await clerk(FLOW));
    expect(b).toMatchObject({
      status: 'reconciling',
      outcomes: {
        pending: 0,
        paid: 11,
        failed: 2,
        unresolved_failed: 2,
        open_exceptions: 4,
        accuracy: '84.62',
      },
    });
    const returns = await ok<{ data: BankReturn[] }>(
      await get(`/v1/disbursements/${flow.batchId}/returns`, await clerk(FLOW)),
    );
    expect(returns.data.map((r) => [r.filename, r.rows, r.paid, r.failed, r.exceptions, r.replayed])).toEqual(
      [
        ['回盘-1.csv', 13, 8, 2, 3, false],
        [null, 5, 3, 0, 1, false],
      ],
    );
    expect(returns.data[1]?.id).toBe(ret.id);
    const open = await ok<{ data: ReturnException[] }>(
      await get(`/v1/disbursements/${flow.batchId}/exceptions?status=open`, await clerk(FLOW)),
    );
    expect(open.data).toHaveLength(4);
    expect(open.data.find((e) => e.return_id === ret.id)).toMatchObject({
      row_no: 6,
      reference: ref(9),
      kind: 'conflicting_result',
      result: 'paid',
      status: 'open',
    });
    // The failed line stays failed: return files never overturn a recorded result.
    const line9 = await ok<Page<Line>>(
      await get(`/v1/disbursements/${flow.batchId}/lines?outcome=failed`, await clerk(FLOW)),
    );
    expect(line9.data.map((l) => l.reference)).toEqual([ref(9), ref(10)]);
  });

  it('write-off: a failed line explained (200); a paid or written-off line → 409; the approver → 403', async () => {
    const as = await clerk(FLOW);
    const unresolved = async () =>
      (
        await ok<Page<Line>>(await get(`/v1/disbursements/${flow.batchId}/lines?unresolved=true`, as))
      ).data.map((l) => l.reference);
    expect(await unresolved()).toEqual([ref(9), ref(10)]);
    const writeOff = (reference: string, token: string, note = '本人已去世，资金退回县财政专户') =>
      post(`/v1/payment-lines/${reference}/write-off`, token, { note });

    expect((await writeOff(ref(10), await approver(FLOW))).status).toBe(403);
    const paid = await writeOff(ref(1), as);
    expect(paid.status).toBe(409);
    expect((await problem(paid)).detail).toContain('has not failed');
    expect((await writeOff(lineRef(flow.batchNo, 9_999), as)).status).toBe(404);
    expect((await writeOff('nope', as)).status).toBe(400);
    expect((await post(`/v1/payment-lines/${ref(10)}/write-off`, as, { note: '' })).status).toBe(400);

    const done = await ok<Line>(await writeOff(ref(10), as));
    expect(done).toMatchObject({
      reference: ref(10),
      outcome: 'failed',
      resolution: 'written_off',
      resolution_note: '本人已去世，资金退回县财政专户',
      resolved_by: clerkSub(FLOW),
    });
    expect(done.resolved_at).not.toBeNull();
    expect((await writeOff(ref(10), as)).status).toBe(409);
    expect(await unresolved()).toEqual([ref(9)]);
    expect(await batch(flow.batchId, as)).toMatchObject({
      status: 'reconciling',
      outcomes: { unresolved_failed: 1 },
    });
  });

  it('reissue: the failed line paid again to the corrected account; a second reissue finds nothing to pay', async () => {
    const as = await clerk(FLOW);
    const failedLine = flow.lines[8] as Line;
    const person = personOf(failedLine.person_id);
    const newAccount = account(FLOW, 9, 1);
    secrets.push(newAccount);
    await setAccount(FLOW, person.id, newAccount);

    const wrongPeriod = await create(as, {
      period: '2013-H2',
      kind: 'reissue',
      source_batch_id: flow.batchId,
    });
    expect(wrongPeriod.status).toBe(422);
    expect(fields(await problem(wrongPeriod))).toEqual(['period']);
    const unknownSource = await create(as, {
      period: '2013-H1',
      kind: 'reissue',
      source_batch_id: randomUUID(),
    });
    expect(unknownSource.status).toBe(404);

    const created = await ok<Batch>(
      await create(as, { period: '2013-H1', kind: 'reissue', source_batch_id: flow.batchId, note: '补发' }),
      202,
    );
    expect(created).toMatchObject({
      batch_no: `${FLOW}-2013-H1-02`,
      kind: 'reissue',
      source_batch_id: flow.batchId,
      status: 'computing',
    });
    await t.jobs.runUntilIdle();
    const reissue = await batch(created.id, as);
    expect(reissue).toMatchObject({
      status: 'draft',
      lines: 1,
      total_fen: 30_000,
      project_fen: 0,
      excluded: 0,
      exclusion_reasons: {},
    });
    const lines = await allPages<Line>(`/v1/disbursements/${created.id}/lines`, as);
    expect(lines).toEqual([
      expect.objectContaining({
        line_no: 1,
        reference: lineRef(created.batch_no, 1),
        person_id: person.id,
        reissue_of: failedLine.reference,
        amount_fen: 30_000,
        project_fen: 0,
        bank_name: '农村商业银行',
        bank_account_masked: maskBankAccount(newAccount),
        outcome: 'pending',
      }),
    ]);
    expect(await expectedHash(FLOW, lines)).toBe(reissue.content_hash);
    flow.reissueId = created.id;

    // A second reissue while the first is a draft pays nothing: the line is already being paid again.
    const second = await ok<Batch>(
      await create(as, { period: '2013-H1', kind: 'reissue', source_batch_id: flow.batchId }),
      202,
    );
    await t.jobs.runUntilIdle();
    const empty = await batch(second.id, as);
    expect(empty).toMatchObject({ batch_no: `${FLOW}-2013-H1-03`, status: 'draft', lines: 0, total_fen: 0 });
    expect(empty.content_hash).toBe(EMPTY_HASH);
    const refused = await approve(second.id, await approver(FLOW), EMPTY_HASH);
    expect(refused.status).toBe(422);
    expect((await ok<Batch>(await post(`/v1/disbursements/${second.id}/cancel`, as))).status).toBe(
      'cancelled',
    );
  });

  it('a failed line being paid again by a reissue draft cannot be written off (409)', async () => {
    const res = await post(`/v1/payment-lines/${ref(9)}/write-off`, await clerk(FLOW), { note: '不再补发' });
    expect(res.status, await res.clone().text()).toBe(409);
    expect((await problem(res)).detail).toContain(`${FLOW}-2013-H1-02`);
    const line = await ok<Page<Line>>(
      await get(`/v1/disbursements/${flow.batchId}/lines?unresolved=true`, await clerk(FLOW)),
    );
    expect(line.data.map((l) => [l.reference, l.resolution])).toEqual([[ref(9), null]]);
  });

  it('approving the reissue marks the original line reissued; a further reissue → 422', async () => {
    const as = await clerk(FLOW);
    const reissue = await batch(flow.reissueId, as);
    const approved = await ok<Batch>(
      await approve(flow.reissueId, await approver(FLOW), reissue.content_hash),
    );
    expect(approved).toMatchObject({ status: 'approved', approved_by: approverSub(FLOW) });
    const failed = await ok<Page<Line>>(
      await get(`/v1/disbursements/${flow.batchId}/lines?outcome=failed`, as),
    );
    expect(failed.data.map((l) => [l.reference, l.resolution, l.resolved_by])).toEqual([
      [ref(9), 'reissued', 'system:reissue'],
      [ref(10), 'written_off', clerkSub(FLOW)],
    ]);
    expect(
      (await ok<Page<Line>>(await get(`/v1/disbursements/${flow.batchId}/lines?unresolved=true`, as))).data,
    ).toEqual([]);
    const again = await create(as, { period: '2013-H1', kind: 'reissue', source_batch_id: flow.batchId });
    expect(again.status).toBe(422);
    expect(fields(await problem(again))).toEqual(['source_batch_id']);
    // Open exceptions keep the source batch open.
    expect(await batch(flow.batchId, as)).toMatchObject({
      status: 'reconciling',
      outcomes: { unresolved_failed: 0, open_exceptions: 4 },
    });
    const list = await ok<Page<Batch>>(await get('/v1/disbursements?kind=reissue', as));
    expect(list.data.map((b) => [b.batch_no, b.status])).toEqual([
      [`${FLOW}-2013-H1-02`, 'approved'],
      [`${FLOW}-2013-H1-03`, 'cancelled'],
    ]);
  });

  it('exceptions are resolved with a note (200, then 409); when none is left open the batch closes', async () => {
    const as = await clerk(FLOW);
    const open = (
      await ok<{ data: ReturnException[] }>(
        await get(`/v1/disbursements/${flow.batchId}/exceptions?status=open`, as),
      )
    ).data;
    expect(open).toHaveLength(4);
    flow.exceptionId = open[0]!.id;
    const resolve = (id: string, token: string, note = '已与银行核对') =>
      post(`/v1/disbursement-exceptions/${id}/resolve`, token, { note });
    expect((await resolve(open[0]!.id, await approver(FLOW))).status).toBe(403);
    expect((await resolve(randomUUID(), as)).status).toBe(404);
    expect((await post(`/v1/disbursement-exceptions/${open[0]!.id}/resolve`, as, { note: 'x' })).status).toBe(
      400,
    );

    for (const [i, e] of open.entries()) {
      const resolved = await ok<ReturnException>(await resolve(e.id, as, `核对结果 ${i + 1}`));
      expect(resolved).toMatchObject({
        id: e.id,
        status: 'resolved',
        resolution_note: `核对结果 ${i + 1}`,
        resolved_by: clerkSub(FLOW),
      });
      expect(resolved.resolved_at).not.toBeNull();
      const b = await batch(flow.batchId, as);
      expect(b.status).toBe(i < open.length - 1 ? 'reconciling' : 'closed');
    }
    expect((await resolve(open[0]!.id, as)).status).toBe(409);
    const closed = await batch(flow.batchId, as);
    expect(closed).toMatchObject({
      status: 'closed',
      outcomes: {
        pending: 0,
        paid: 11,
        failed: 2,
        paid_fen: 330_000,
        failed_fen: 60_000,
        unresolved_failed: 0,
        open_exceptions: 0,
        accuracy: '84.62',
      },
    });
    expect(closed.closed_at).not.toBeNull();
    expect(
      (
        await ok<{ data: ReturnException[] }>(
          await get(`/v1/disbursements/${flow.batchId}/exceptions?status=resolved`, as),
        )
      ).data,
    ).toHaveLength(4);
    // A closed batch takes no new return file, but the same file again is still a replay.
    expect((await importReturn(flow.batchId, as, returnFile([[ref(5), '300.00', '成功']]))).status).toBe(409);
    const [close] = rowsOf<{ changes: unknown }>(
      await t.admin.orm.execute(sql`SELECT changes FROM audit_events WHERE division_code = ${FLOW}
        AND entity_id = ${flow.batchId} AND action = 'disbursement.close'`),
    );
    const changes = (
      typeof close?.changes === 'string' ? JSON.parse(close.changes) : close?.changes
    ) as Record<string, { new: unknown }>;
    expect(changes.accuracy?.new).toBe('84.62');
  });

  it('the reissue batch is exported and reconciled like any batch: paid → closed at 100.00', async () => {
    const as = await clerk(FLOW);
    const person = personOf((flow.lines[8] as Line).person_id);
    const file = await bankFile(flow.reissueId, as, 'csv', '补发代发');
    expect(file.status).toBe(200);
    const { records } = csvBankRecords(await file.text());
    expect(records).toEqual([
      [lineRef(`${FLOW}-2013-H1-02`, 1), person.name, account(FLOW, 9, 1), '农村商业银行', '300.00'],
    ]);
    const ret = await ok<BankReturn>(
      await importReturn(
        flow.reissueId,
        as,
        returnFile([[lineRef(`${FLOW}-2013-H1-02`, 1), '300.00', '成功']]),
      ),
      201,
    );
    expect(ret.control).toMatchObject({ expected_lines: 1, file_lines: 1, balanced: true });
    expect(await batch(flow.reissueId, as)).toMatchObject({
      status: 'closed',
      outcomes: { paid: 1, pending: 0, accuracy: '100.00' },
    });
  });

  it('a person’s payments, newest period first: the H2 draft, the reissue (paid), the failed original (reissued)', async () => {
    const person = personOf((flow.lines[8] as Line).person_id);
    const payments = await ok<{ data: Line[] }>(
      await get(`/v1/persons/${person.id}/payments`, await clerk(FLOW)),
    );
    expect(payments.data.map((l) => [l.batch_no, l.outcome, l.resolution, l.reissue_of])).toEqual([
      [`${FLOW}-2013-H2-02`, 'pending', null, null],
      [`${FLOW}-2013-H1-02`, 'paid', null, ref(9)],
      [flow.batchNo, 'failed', 'reissued', null],
    ]);
    expect(payments.data[1]?.reference).toBe(lineRef(`${FLOW}-2013-H1-02`, 1));
    expect(payments.data[2]).toMatchObject({ reference: ref(9), outcome_reason: '账户已销户' });
    const other = flow.people[0] as FlowPerson;
    const theirs = await ok<{ data: Line[] }>(
      await get(`/v1/persons/${other.id}/payments`, await clerk(FLOW)),
    );
    expect(theirs.data.map((l) => [l.batch_no, l.outcome])).toEqual([
      [`${FLOW}-2013-H2-02`, 'pending'],
      [flow.batchNo, 'paid'],
    ]);
    expect((await get(`/v1/persons/${randomUUID()}/payments`, await clerk(FLOW))).status).toBe(404);
  });
});

// ── Entitlement: the batch mirrors the domain ──────────────────────────────────────────────────

interface EntSpec {
  name: string;
  village: 'cash' | 'project' | 'both';
  relocationDate?: string;
  registeredOn?: string;
  /** Default: an account. */
  account?: false;
  events?: EventSpec[];
}

/** Every kind of person of the table test; the removal rule is the national annual_review. */
const ENT_PEOPLE: EntSpec[] = [
  { name: '在册', village: 'cash' },
  { name: '晚迁', village: 'cash', relocationDate: '2008-09-01' },
  { name: '期前死亡', village: 'cash', events: [{ kind: 'death', date: '2012-10-01' }] },
  { name: '期中死亡', village: 'cash', events: [{ kind: 'death', date: '2013-03-01' }] },
  { name: '迁出', village: 'cash', events: [{ kind: 'moved_out', date: '2012-11-01' }] },
  {
    name: '迁回',
    village: 'cash',
    events: [
      { kind: 'moved_out', date: '2010-05-01' },
      { kind: 're_registered', date: '2012-08-01' },
    ],
  },
  // Effective once the 2012 verification is submitted (2012-12-20).
  {
    name: '核减已核定',
    village: 'cash',
    events: [{ kind: 'removed', date: '2012-03-01', reason: 'civil_servant' }],
  },
  // Its year (2011) is never verified: pending, still registered.
  { name: '核减待核定', village: 'cash', events: [{ kind: 'removed', date: '2011-06-01', reason: 'other' }] },
  // Re-registered before the removal took effect: the removal never counts.
  {
    name: '核减后重登',
    village: 'cash',
    events: [
      { kind: 'removed', date: '2012-02-01', reason: 'imprisonment' },
      { kind: 're_registered', date: '2012-06-01' },
    ],
  },
  {
    name: '死亡已更正',
    village: 'cash',
    events: [
      { kind: 'death', date: '2012-09-01' },
      { kind: 'correction', date: '2012-09-05', corrects: 0 },
    ],
  },
  { name: '期中登记', village: 'cash', registeredOn: '2013-02-01' },
  { name: '新近搬迁', village: 'cash', relocationDate: '2013-03-01', registeredOn: '2012-01-01' },
  { name: '无账户', village: 'cash', account: false },
  {
    name: '晚迁后死亡',
    village: 'cash',
    relocationDate: '2008-09-01',
    events: [{ kind: 'death', date: '2020-01-01' }],
  },
  { name: '项目村', village: 'project' },
  { name: '项目村无账户', village: 'project', account: false },
  {
    name: '项目村核减',
    village: 'project',
    events: [{ kind: 'removed', date: '2012-04-01', reason: 'non_agricultural_hukou' }],
  },
  { name: '混合村', village: 'both' },
  { name: '混合村无账户', village: 'both', account: false },
  { name: '混合村晚迁', village: 'both', relocationDate: '2008-09-01' },
];

const H1_PENDING: Record<string, string> = {
  在册: 'paid 30000',
  晚迁: 'paid 30000',
  期前死亡: 'deceased',
  期中死亡: 'paid 30000',
  迁出: 'moved_out',
  迁回: 'paid 30000',
  核减已核定: 'paid 30000',
  核减待核定: 'paid 30000',
  核减后重登: 'paid 30000',
  死亡已更正: 'paid 30000',
  期中登记: 'not_yet_registered',
  新近搬迁: 'window_not_started',
  无账户: 'no_bank_account',
  晚迁后死亡: 'paid 30000',
  项目村: 'project_mode → 30000 project',
  项目村无账户: 'project_mode → 30000 project',
  项目村核减: 'project_mode → 30000 project',
  混合村: 'paid 21000 + 9000 project',
  混合村无账户: 'no_bank_account',
  混合村晚迁: 'paid 21000 + 9000 project',
};
const H1_REVIEWED: Record<string, string> = {
  ...H1_PENDING,
  核减已核定: 'removed → 30000 project',
  项目村核减: 'removed → 30000 project',
};
const H2_2026: Record<string, string> = {
  在册: 'window_ended',
  晚迁: 'paid 30000',
  期前死亡: 'deceased+window_ended',
  期中死亡: 'deceased+window_ended',
  迁出: 'moved_out+window_ended',
  迁回: 'window_ended',
  核减已核定: 'removed+window_ended',
  核减待核定: 'window_ended',
  核减后重登: 'window_ended',
  死亡已更正: 'window_ended',
  期中登记: 'window_ended',
  新近搬迁: 'paid 30000',
  无账户: 'window_ended',
  晚迁后死亡: 'deceased',
  项目村: 'window_ended',
  项目村无账户: 'window_ended',
  项目村核减: 'removed+window_ended',
  混合村: 'window_ended',
  混合村无账户: 'window_ended',
  混合村晚迁: 'paid 21000 + 9000 project',
};

/** What the oversight summary reuses of the entitlement county. */
const ent = {
  h1: '',
  villages: { cash: 0, project: 0, both: 0 },
  villageNames: {} as Record<number, string>,
};

describe('entitlement through the batch mirrors entitlement() of the domain', () => {
  beforeAll(async () => {
    const made = await makeTownship(t.db, ENT, 3);
    const [cash, project, both] = made.villages.map((v) => v.code) as [number, number, number];
    ent.villages = { cash, project, both };
    ent.villageNames = Object.fromEntries(made.villages.map((v) => [v.code, v.name]));
    // Payment modes set by the province through the policy API.
    const admin = await provinceAdmin(ENT);
    const settings: [number, Record<string, unknown>][] = [
      [project, { mode: 'project', source: '村民代表大会决议（项目扶持）' }],
      [both, { mode: 'both', cash_percent: 70, source: '村民代表大会决议（直补70%）' }],
    ];
    for (const [code, body] of settings) {
      const res = await t.call('PUT', `/v1/policy/payment-modes/${code}/values/2006-07-01`, {
        token: admin,
        body,
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    for (const [i, spec] of ENT_PEOPLE.entries()) {
      const acct = spec.account === false ? undefined : account(ENT, i);
      const relocationDate = spec.relocationDate ?? '2003-05-01';
      const p = await makePerson(t, ENT, {
        village: ent.villages[spec.village],
        name: spec.name,
        relocationDate,
        registeredOn: spec.registeredOn ?? relocationDate,
        ...(acct ? { bankAccount: acct } : {}),
      });
      secrets.push(p.nationalId, ...(acct ? [acct] : []));
      if (spec.events) await addEvents(ENT, p.id, spec.events);
    }
  });

  it('2013-H1, a removal pending its annual review: every person as entitlement() says', async () => {
    const b = await prepare(ENT, '2013-H1');
    ent.h1 = b.id;
    expect(await mirror(b, ENT)).toEqual(H1_PENDING);
    expect(b).toMatchObject({
      status: 'draft',
      lines: 11,
      total_fen: 312_000,
      project_fen: 108_000,
      excluded: 9,
    });
    expect(b.exclusion_reasons).toEqual({
      deceased: 1,
      moved_out: 1,
      not_yet_registered: 1,
      window_not_started: 1,
      no_bank_account: 2,
      project_mode: 3,
    });
  });

  it('the 2012 verification submitted: recompute replaces the lines (removals now count), new hash and preparer', async () => {
    await submitVerification(ENT, 2012, '2012-12-20T03:00:00Z');
    const as = await clerk(ENT);
    const before = await batch(ent.h1, as);
    const started = await ok<Batch>(
      await post(`/v1/disbursements/${ent.h1}/recompute`, await clerk(ENT, 2)),
      202,
    );
    expect(started.prepared_by).toBe(clerkSub(ENT, 2));
    await t.jobs.runUntilIdle();
    const after = await batch(ent.h1, as);
    expect(after).toMatchObject({
      status: 'draft',
      prepared_by: clerkSub(ENT, 2),
      lines: 10,
      total_fen: 282_000,
      project_fen: 138_000,
      excluded: 10,
    });
    expect(after.content_hash).not.toBe(before.content_hash);
    expect(after.version).toBeGreaterThan(before.version);
    expect(await mirror(after, ENT)).toEqual(H1_REVIEWED);

    const removed = await ok<Page<Exclusion>>(
      await get(`/v1/disbursements/${ent.h1}/exclusions?reason=removed`, as),
    );
    expect(removed.data.map((x) => [x.name, x.status, x.amount_fen, x.project_fen]).sort()).toEqual([
      ['核减已核定', 'removed', 30_000, 30_000],
      ['项目村核减', 'removed', 30_000, 30_000],
    ]);
    const noAccount = await ok<Page<Exclusion>>(
      await get(`/v1/disbursements/${ent.h1}/exclusions?reason=no_bank_account`, as),
    );
    expect(noAccount.data.map((x) => x.name).sort()).toEqual(['无账户', '混合村无账户'].sort());
    // Paged by three: every exclusion once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<Exclusion> = await ok<Page<Exclusion>>(
        await get(`/v1/disbursements/${ent.h1}/exclusions?limit=3${cursor ? `&cursor=${cursor}` : ''}`, as),
      );
      seen.push(...page.data.map((x) => x.name));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(
      Object.entries(H1_REVIEWED)
        .filter(([, o]) => !o.startsWith('paid'))
        .map(([n]) => n)
        .sort(),
    );
    // The mixed village's line: 70 % cash, the rest project funds.
    const mixed = await ok<Page<Line>>(
      await get(`/v1/disbursements/${ent.h1}/lines?village=${ent.villages.both}`, as),
    );
    expect(mixed.data.map((l) => [l.name, l.amount_fen, l.project_fen])).toEqual(
      expect.arrayContaining([
        ['混合村', 21_000, 9_000],
        ['混合村晚迁', 21_000, 9_000],
      ]),
    );
  });

  it('2026-H2: the windows of the 2006 movers have ended; later movers are still paid', async () => {
    const b = await prepare(ENT, '2026-H2');
    expect(b).toMatchObject({ period_start: '2026-07-01', period_end: '2026-12-31' });
    expect(await mirror(b, ENT)).toEqual(H2_2026);
    expect(b).toMatchObject({ lines: 3, total_fen: 81_000, project_fen: 9_000, excluded: 17 });
    expect(b.exclusion_reasons).toEqual({ window_ended: 16, deceased: 3, moved_out: 1, removed: 2 });
  });

  it('the 2013-H1 batch approved, exported and reconciled: the mixed village’s line failed', async () => {
    const as = await clerk(ENT);
    const b = await batch(ent.h1, as);
    expect(await ok<Batch>(await approve(ent.h1, await approver(ENT), b.content_hash))).toMatchObject({
      status: 'approved',
    });
    const { records } = csvBankRecords(await (await bankFile(ent.h1, as)).text());
    expect(records).toHaveLength(10);
    expect(records.find((r) => r[1] === '混合村')?.[4]).toBe('210.00');
    const ret = await ok<BankReturn>(
      await importReturn(
        ent.h1,
        as,
        returnFile(
          records.map(
            (r): ReturnRow => [
              r[0]!,
              r[4]!,
              r[1] === '混合村' ? '失败' : '成功',
              r[1] === '混合村' ? '账号错误' : '',
            ],
          ),
        ),
      ),
      201,
    );
    expect(ret).toMatchObject({
      paid: 9,
      failed: 1,
      paid_fen: 261_000,
      failed_fen: 21_000,
      control: { balanced: true },
    });
    expect(await batch(ent.h1, as)).toMatchObject({
      status: 'reconciling',
      outcomes: { paid: 9, failed: 1, unresolved_failed: 1, accuracy: '90.00' },
    });
  });
});

// ── One payment per person and period ──────────────────────────────────────────────────────────

describe('one payment per person and period', () => {
  it('a draft or approved regular batch of the period blocks a second one (409)', async () => {
    for (const county of [FLOW, ENT]) {
      const res = await create(await clerk(county), { period: '2013-H1' });
      expect(res.status, String(county)).toBe(409);
    }
    const draft = await create(await clerk(ENT), { period: '2026-H2' });
    expect(draft.status).toBe(409);
  });

  it('the same national ID in two counties: the second county’s batch excludes them as already_paid', async () => {
    const nationalId = makeNationalId(DUP_A);
    secrets.push(nationalId, account(DUP_A, 1), account(DUP_B, 1), account(DUP_B, 2));
    await makePerson(t, DUP_A, { nationalId, name: '两地登记', bankAccount: account(DUP_A, 1) });
    await makePerson(t, DUP_B, { nationalId, name: '两地登记', bankAccount: account(DUP_B, 1) });
    const local = await makePerson(t, DUP_B, { name: '本地在册', bankAccount: account(DUP_B, 2) });
    secrets.push(local.nationalId);

    const a = await prepare(DUP_A, '2013-H1');
    expect(a).toMatchObject({ lines: 1, total_fen: 30_000 });
    const b = await prepare(DUP_B, '2013-H1');
    expect(b).toMatchObject({
      lines: 1,
      total_fen: 30_000,
      excluded: 1,
      exclusion_reasons: { already_paid: 1 },
    });
    expect(await mirror(b, DUP_B)).toEqual({ 两地登记: 'already_paid', 本地在册: 'paid 30000' });
    const [dup] = (
      await ok<Page<Exclusion>>(await get(`/v1/disbursements/${b.id}/exclusions`, await clerk(DUP_B)))
    ).data;
    expect(dup).toMatchObject({
      status: 'registered',
      reasons: ['already_paid'],
      amount_fen: 30_000,
      project_fen: 0,
    });
    // The skipped person's line number stays unused: the references stay what they were.
    const lines = await allPages<Line>(`/v1/disbursements/${b.id}/lines`, await clerk(DUP_B));
    expect(lines.map((l) => l.name)).toEqual(['本地在册']);
    expect(lines[0]?.reference).toBe(lineRef(b.batch_no, lines[0]?.line_no as number));

    // The first county gives its draft up: recomputed, the second county pays them.
    expect((await ok<Batch>(await post(`/v1/disbursements/${a.id}/cancel`, await clerk(DUP_A)))).status).toBe(
      'cancelled',
    );
    await ok(await post(`/v1/disbursements/${b.id}/recompute`, await clerk(DUP_B)), 202);
    await t.jobs.runUntilIdle();
    const recomputed = await batch(b.id, await clerk(DUP_B));
    expect(await mirror(recomputed, DUP_B)).toEqual({ 两地登记: 'paid 30000', 本地在册: 'paid 30000' });
    expect(recomputed).toMatchObject({ lines: 2, total_fen: 60_000, excluded: 0 });
    // And now the first county's new batch is the one that finds them paid.
    const again = await prepare(DUP_A, '2013-H1');
    expect(again).toMatchObject({
      batch_no: `${DUP_A}-2013-H1-02`,
      lines: 0,
      exclusion_reasons: { already_paid: 1 },
    });
    expect(await mirror(again, DUP_A)).toEqual({ 两地登记: 'already_paid' });
  });

  it.runIf(usingPostgres())(
    'the same ID in two counties whose batch jobs run at the same time: one line, the other already_paid',
    async () => {
      const nationalId = makeNationalId(CON_A);
      secrets.push(nationalId, account(CON_A, 1), account(CON_B, 1));
      await makePerson(t, CON_A, { nationalId, name: '同时两地', bankAccount: account(CON_A, 1) });
      await makePerson(t, CON_B, { nationalId, name: '同时两地', bankAccount: account(CON_B, 1) });
      const ids: string[] = [];
      for (const county of [CON_A, CON_B]) {
        ids.push((await ok<Batch>(await create(await clerk(county), { period: '2013-H1' }), 202)).id);
      }
      // The first batch to reach its commit (lines inserted, not committed) waits there until the
      // other one's insert waits on it (the unique index): the other then finds the line committed.
      let held = false;
      let otherWaited = false;
      const hooks = {
        beforeCommit: async () => {
          if (held) return;
          held = true;
          // Less than the idle-in-transaction timeout of the test connections (10 s).
          const deadline = Date.now() + 5_000;
          while (Date.now() < deadline) {
            const [w] = rowsOf<{ n: number | string }>(
              await t.admin.orm.execute(sql`
                SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'transactionid' AND NOT l.granted AND a.datname = current_database()`),
            );
            if (Number(w?.n) > 0) {
              otherWaited = true;
              return;
            }
            await new Promise((r) => setTimeout(r, 20));
          }
        },
      };
      const runners = [0, 1].map(() =>
        createJobRunner({
          db: t.db,
          logger: createLogger('silent'),
          handlers: [subsidyBatchHandler({ now: () => new Date() })],
          queue: t.jobs.queue,
        }),
      );
      const runs = await Promise.all(runners.map((r) => r.runUntilIdle({ hooks })));
      expect(runs.reduce((n, r) => n + r.ran, 0)).toBe(2);
      const [a, b] = [await batch(ids[0]!, await clerk(CON_A)), await batch(ids[1]!, await clerk(CON_B))];
      expect([a.status, b.status]).toEqual(['draft', 'draft']);
      // Paid exactly once for the period, by whichever batch committed first; the other excludes them.
      expect([a.lines, b.lines].sort()).toEqual([0, 1]);
      const [paid, skipped] = a.lines === 1 ? [a, b] : [b, a];
      expect(paid).toMatchObject({ total_fen: 30_000, excluded: 0 });
      expect(skipped).toMatchObject({ total_fen: 0, excluded: 1, exclusion_reasons: { already_paid: 1 } });
      const [count] = rowsOf<{ n: number | string }>(
        await t.admin.orm.execute(sql`
          SELECT count(*) AS n FROM payment_lines WHERE division_code IN (${CON_A}, ${CON_B})
            AND period = '2013-H1' AND outcome <> 'failed'`),
      );
      expect(Number(count?.n)).toBe(1);
      // …and the two computations did overlap (the second insert waited on the first's line).
      expect(otherWaited).toBe(true);
    },
  );

  it('the database itself refuses a second live line for the same ID and period (unique index)', async () => {
    const [line] = rowsOf<Record<string, unknown>>(
      await t.admin.orm.execute(sql`SELECT l.* FROM payment_lines l WHERE l.division_code = ${FLOW}
        AND l.batch_id = ${flow.batchId}::uuid AND l.line_no = 1`),
    );
    expect(line).toBeDefined();
    const message = await failure(
      withDivision(t.db, FLOW, (tx) =>
        tx.execute(sql`INSERT INTO payment_lines (division_code, batch_id, line_no, reference, period, person_id, id_hash,
            id_masked, name, village_code, bank_account_sealed, bank_account_masked, amount_fen)
          SELECT division_code, ${flow.h2}::uuid, 999, reference || '-X', period, person_id, id_hash, id_masked, name,
                 village_code, bank_account_sealed, bank_account_masked, amount_fen
          FROM payment_lines WHERE division_code = ${FLOW} AND batch_id = ${flow.batchId}::uuid AND line_no = 1`),
      ),
    );
    expect(message).toMatch(/payment_lines_once_per_period|duplicate key/);
  });
});

// ── Maker-checker: an empty batch ──────────────────────────────────────────────────────────────

describe('maker-checker', () => {
  it('approving an empty batch → 422', async () => {
    const b = await prepare(EMPTY, '2013-H1');
    expect(b).toMatchObject({
      status: 'draft',
      lines: 0,
      total_fen: 0,
      excluded: 0,
      content_hash: EMPTY_HASH,
      outcomes: { accuracy: null },
    });
    const res = await approve(b.id, await approver(EMPTY), EMPTY_HASH);
    expect(res.status).toBe(422);
    expect((await problem(res)).code).toBe('unprocessable');
    expect((await batch(b.id, await clerk(EMPTY))).status).toBe('draft');
  });
});

// ── Security ───────────────────────────────────────────────────────────────────────────────────

describe('security', () => {
  it('wrong roles → 403: an auditor cannot create, a clerk cannot approve, an approver cannot export', async () => {
    const auditor = await token(FLOW, ['auditor'], 'user:disb:auditor');
    const denied = await create(auditor, { period: '2014-H1' });
    expect(denied.status).toBe(403);
    expect((await problem(denied)).code).toBe('forbidden');
    expect((await ok<Page<Batch>>(await get('/v1/disbursements?period=2014-H1', auditor))).data).toEqual([]);
    expect((await approve(flow.h2, await clerk(FLOW), flow.hash)).status).toBe(403);
    expect((await bankFile(flow.batchId, await approver(FLOW))).status).toBe(403);
    expect((await post(`/v1/disbursements/${flow.h2}/cancel`, await approver(FLOW))).status).toBe(403);
    expect(
      (await importReturn(flow.batchId, await approver(FLOW), returnFile([['x', '1.00', '成功']]))).status,
    ).toBe(403);
    // A city cannot prepare: batches belong to the county that pays.
    expect((await create(await cityReviewer(FLOW), { period: '2014-H1' })).status).toBe(403);
    expect((await get(`/v1/disbursements/${flow.batchId}`, '')).status).toBe(401);
  });

  it('another county’s batch is 404 (as one that does not exist) for every route', async () => {
    const other = await clerk(DUP_A);
    const otherApprover = await approver(DUP_A);
    const id = flow.batchId;
    const missing = randomUUID();
    const calls: [string, (batchId: string) => Promise<Response>][] = [
      ['get', (b) => get(`/v1/disbursements/${b}`, other)],
      ['lines', (b) => get(`/v1/disbursements/${b}/lines`, other)],
      ['exclusions', (b) => get(`/v1/disbursements/${b}/exclusions`, other)],
      ['returns', (b) => get(`/v1/disbursements/${b}/returns`, other)],
      ['exceptions', (b) => get(`/v1/disbursements/${b}/exceptions`, other)],
      ['approve', (b) => approve(b, otherApprover, flow.hash)],
      ['recompute', (b) => post(`/v1/disbursements/${b}/recompute`, other)],
      ['cancel', (b) => post(`/v1/disbursements/${b}/cancel`, other)],
      ['bank-file', (b) => bankFile(b, other)],
      ['return import', (b) => importReturn(b, other, returnFile([[ref1(), '300.00', '成功']]))],
      ['reissue', (b) => create(other, { period: '2013-H1', kind: 'reissue', source_batch_id: b })],
    ];
    for (const [label, call] of calls) {
      const res = await call(id);
      const text = await res.text();
      expect(res.status, label).toBe(404);
      expect(text, label).not.toContain(flow.batchNo);
      expect((await call(missing)).status, `${label}, missing id`).toBe(404);
    }
    const writeOff = await post(`/v1/payment-lines/${ref1()}/write-off`, other, { note: '他县核销' });
    expect(writeOff.status).toBe(404);
    const resolve = await post(`/v1/disbursement-exceptions/${flow.exceptionId}/resolve`, other, {
      note: '他县处理',
    });
    expect(resolve.status).toBe(404);
    expect((await get(`/v1/persons/${flow.people[0]?.id}/payments`, other)).status).toBe(404);
    const summary = await get(`/v1/disbursements/summary?division=${FLOW}`, other);
    expect(summary.status).toBe(404);
    // Nothing changed: the batch is as it was.
    expect(await batch(flow.batchId, await clerk(FLOW))).toMatchObject({ status: 'closed', lines: 13 });
  });

  it('a city reviewer sees the county’s batches, lines and summary but changes nothing', async () => {
    const city = await cityReviewer(FLOW);
    const list = await ok<Page<Batch>>(await get(`/v1/disbursements?county=${FLOW}`, city));
    expect(list.data.map((b) => b.batch_no)).toContain(flow.batchNo);
    expect(await batch(flow.batchId, city)).toMatchObject({ status: 'closed', county_code: FLOW });
    expect(
      (await ok<Page<Line>>(await get(`/v1/disbursements/${flow.batchId}/lines`, city))).data,
    ).toHaveLength(13);
    expect((await get(`/v1/disbursements/${flow.batchId}/returns`, city)).status).toBe(200);
    expect((await get(`/v1/disbursements/summary?division=${FLOW}`, city)).status).toBe(200);
    const writes: [string, Promise<Response>][] = [
      ['approve', approve(flow.h2, city, flow.hash)],
      ['cancel', post(`/v1/disbursements/${flow.h2}/cancel`, city)],
      ['recompute', post(`/v1/disbursements/${flow.h2}/recompute`, city)],
      ['bank-file', bankFile(flow.batchId, city)],
      ['returns', importReturn(flow.batchId, city, returnFile([[ref1(), '300.00', '成功']]))],
      ['write-off', post(`/v1/payment-lines/${ref1()}/write-off`, city, { note: '市级核销' })],
      [
        'resolve',
        post(`/v1/disbursement-exceptions/${flow.exceptionId}/resolve`, city, { note: '市级处理' }),
      ],
    ];
    for (const [label, res] of writes) expect((await res).status, label).toBe(403);
    expect((await batch(flow.h2, await clerk(FLOW))).status).toBe('draft');
  });

  it('no JSON body holds a full national ID or account; the bank file does (the only place)', async () => {
    const flowClerk = await clerk(FLOW);
    const entClerk = await clerk(ENT);
    const person = flow.people[8] as FlowPerson;
    const paths: [string, string][] = [
      [`/v1/disbursements?county=${FLOW}`, flowClerk],
      [`/v1/disbursements/${flow.batchId}`, flowClerk],
      [`/v1/disbursements/${flow.batchId}/lines?limit=200`, flowClerk],
      [`/v1/disbursements/${flow.reissueId}/lines`, flowClerk],
      [`/v1/disbursements/${flow.h2}/lines?limit=200`, flowClerk],
      [`/v1/disbursements/${flow.batchId}/returns`, flowClerk],
      [`/v1/disbursements/${flow.batchId}/exceptions`, flowClerk],
      [`/v1/persons/${person.id}/payments`, flowClerk],
      [`/v1/disbursements/${ent.h1}/lines?limit=200`, entClerk],
      [`/v1/disbursements/${ent.h1}/exclusions?limit=200`, entClerk],
      [`/v1/disbursements/summary?division=${ENT}`, entClerk],
    ];
    for (const [path, as] of paths) {
      const res = await get(path, as);
      const text = await res.text();
      expect(res.status, path).toBe(200);
      expectNoSecrets(text, path);
    }
    const file = await (await bankFile(flow.batchId, flowClerk, 'csv', '安全检查对照')).text();
    expect(file).toContain(person.account as string);
    expect(file).not.toMatch(FULL_ID);
  });
});

// ── Immutability ───────────────────────────────────────────────────────────────────────────────

describe('immutability after approval', () => {
  it('line content cannot be updated or deleted, nor exclusions, and the totals are frozen (triggers)', async () => {
    const as = await clerk(FLOW);
    const before = await batch(flow.batchId, as);
    const linesBefore = await allPages<Line>(`/v1/disbursements/${flow.batchId}/lines`, as);
    const run = (county: number, statement: SQL) => withDivision(t.db, county, (tx) => tx.execute(statement));
    const ofBatch = sql`division_code = ${FLOW} AND batch_id = ${flow.batchId}::uuid`;

    expect(
      await failure(run(FLOW, sql`UPDATE payment_lines SET amount_fen = amount_fen + 1 WHERE ${ofBatch}`)),
    ).toMatch(/immutable/);
    expect(
      await failure(
        run(FLOW, sql`UPDATE payment_lines SET bank_account_masked = '6228****0000' WHERE ${ofBatch}`),
      ),
    ).toMatch(/immutable/);
    expect(await failure(run(FLOW, sql`DELETE FROM payment_lines WHERE ${ofBatch}`))).toMatch(
      /cannot be deleted/,
    );
    const ofRow = sql`division_code = ${FLOW} AND id = ${flow.batchId}::uuid`;
    expect(
      await failure(run(FLOW, sql`UPDATE payment_batches SET total_fen = total_fen + 1 WHERE ${ofRow}`)),
    ).toMatch(/frozen/);
    expect(
      await failure(run(FLOW, sql`UPDATE payment_batches SET content_hash = ${EMPTY_HASH} WHERE ${ofRow}`)),
    ).toMatch(/frozen/);
    expect(
      await failure(
        run(FLOW, sql`UPDATE payment_batches SET approved_by = 'user:someone-else' WHERE ${ofRow}`),
      ),
    ).toMatch(/frozen/);
    expect(await failure(run(FLOW, sql`DELETE FROM payment_batches WHERE ${ofRow}`))).toMatch(
      /permission denied/,
    );
    const ofEnt = sql`division_code = ${ENT} AND batch_id = ${ent.h1}::uuid`;
    // The API role may not even update exclusions; deleting them meets the trigger.
    expect(
      await failure(run(ENT, sql`UPDATE payment_exclusions SET project_fen = 0 WHERE ${ofEnt}`)),
    ).toMatch(/permission denied|immutable/);
    expect(await failure(run(ENT, sql`DELETE FROM payment_exclusions WHERE ${ofEnt}`))).toMatch(/immutable/);

    const after = await batch(flow.batchId, as);
    expect(after).toMatchObject({
      lines: before.lines,
      total_fen: before.total_fen,
      project_fen: before.project_fen,
      content_hash: before.content_hash,
      approved_by: before.approved_by,
    });
    expect(await allPages<Line>(`/v1/disbursements/${flow.batchId}/lines`, as)).toEqual(linesBefore);
    expect(await batch(ent.h1, await clerk(ENT))).toMatchObject({ excluded: 10, project_fen: 138_000 });
  });

  it('a line’s person and batch must exist and keep their keys (set-based checks, 0010)', async () => {
    const run = (statement: SQL) => withDivision(t.db, FLOW, (tx) => tx.execute(statement));
    // A copy of the batch's lines with one reference changed: the whole statement fails with 23503.
    const copy = (person: SQL, batchId: SQL) => sql`
      INSERT INTO payment_lines (division_code, batch_id, line_no, reference, period, person_id, id_hash, id_masked,
                                 name, village_code, bank_name, bank_account_sealed, bank_account_masked, amount_fen)
      SELECT division_code, ${batchId}, line_no + 1000000, reference || '-copy', '1999-H1',
             CASE WHEN line_no = 2 THEN ${person} ELSE person_id END, id_hash, id_masked, name, village_code,
             bank_name, bank_account_sealed, bank_account_masked, amount_fen
      FROM payment_lines WHERE division_code = ${FLOW} AND batch_id = ${flow.batchId}::uuid`;
    const own = sql`${flow.batchId}::uuid`;
    expect(await failure(run(copy(sql`${randomUUID()}::uuid`, own)))).toMatch(/missing from persons/);
    expect(await failure(run(copy(sql`person_id`, sql`${randomUUID()}::uuid`)))).toMatch(
      /missing from payment_batches/,
    );
    // Every reference valid: the copy goes in (and is rolled back here, to leave the batch as it was).
    const rollback = new Error('rollback');
    await expect(
      withDivision(t.db, FLOW, async (tx) => {
        await tx.execute(copy(sql`person_id`, own));
        throw rollback;
      }),
    ).rejects.toBe(rollback);

    const [line] = rowsOf<{ person_id: string }>(
      await t.admin.orm.execute(sql`SELECT person_id::text AS person_id FROM payment_lines
        WHERE division_code = ${FLOW} AND batch_id = ${flow.batchId}::uuid ORDER BY line_no LIMIT 1`),
    );
    const person = sql`division_code = ${FLOW} AND id = ${line?.person_id}::uuid`;
    const ofBatch = sql`division_code = ${FLOW} AND id = ${flow.batchId}::uuid`;
    // Even an administrative login cannot take them away from under the lines.
    for (const statement of [
      sql`DELETE FROM persons WHERE ${person}`,
      sql`UPDATE persons SET id = ${randomUUID()}::uuid WHERE ${person}`,
      sql`DELETE FROM payment_batches WHERE ${ofBatch}`,
      sql`UPDATE payment_batches SET id = ${randomUUID()}::uuid WHERE ${ofBatch}`,
    ]) {
      expect(await failure(t.admin.orm.execute(statement))).toMatch(/referred to by payment lines|frozen/);
    }
    // A change that keeps the key is not refused by these triggers.
    await t.admin.orm.execute(sql`UPDATE persons SET name = name WHERE ${person}`);
  });

  it('a batch’s paid and failed totals follow its lines, whatever the statement (0011)', async () => {
    /** Per batch of the county: the totals kept on the batch and the same counted from its lines. */
    const totals = async (tx: Tx, county: number) =>
      rowsOf<{ id: string; kept: string; counted: string }>(
        await tx.execute(sql`
          SELECT b.id::text AS id,
                 concat_ws('/', b.paid_count, b.paid_fen, b.failed_count, b.failed_fen) AS kept,
                 (SELECT concat_ws('/', count(*) FILTER (WHERE l.outcome = 'paid'),
                                   coalesce(sum(l.amount_fen) FILTER (WHERE l.outcome = 'paid'), 0),
                                   count(*) FILTER (WHERE l.outcome = 'failed'),
                                   coalesce(sum(l.amount_fen) FILTER (WHERE l.outcome = 'failed'), 0))
                    FROM payment_lines l WHERE l.division_code = b.division_code AND l.batch_id = b.id) AS counted
          FROM payment_batches b WHERE b.division_code = ${county} ORDER BY b.id`),
      );
    const agree = (rows: { kept: string; counted: string }[]) =>
      expect(rows.map((r) => r.kept)).toEqual(rows.map((r) => r.counted));
    // After the flows above (computations, bank returns, write-offs, reissues, recomputations).
    for (const county of [ENT, FLOW]) agree(await withDivision(t.db, county, (tx) => totals(tx, county)));
    const h1 = (rows: { id: string; kept: string }[]) => rows.find((r) => r.id === ent.h1)?.kept;
    expect(h1(await withDivision(t.db, ENT, (tx) => totals(tx, ENT)))).toBe('9/261000/1/21000');

    const rollback = new Error('rollback');
    const ofH1 = sql`division_code = ${ENT} AND batch_id = ${ent.h1}::uuid`;
    await expect(
      withDivision(t.db, ENT, async (tx) => {
        // One statement turns every paid line failed and the failed one paid.
        await tx.execute(sql`UPDATE payment_lines
          SET outcome = CASE outcome WHEN 'paid' THEN 'failed' ELSE 'paid' END WHERE ${ofH1}`);
        expect(h1(await totals(tx, ENT))).toBe('1/21000/9/261000');
        // Lines written with an outcome count in (the API writes them pending).
        await tx.execute(sql`
          INSERT INTO payment_lines (division_code, batch_id, line_no, reference, period, person_id, id_hash, id_masked,
                                     name, village_code, bank_name, bank_account_sealed, bank_account_masked,
                                     amount_fen, outcome)
          SELECT division_code, batch_id, line_no + 1000000, reference || '-copy', '1999-H1', person_id, id_hash,
                 id_masked, name, village_code, bank_name, bank_account_sealed, bank_account_masked, amount_fen, 'paid'
          FROM payment_lines WHERE ${ofH1} AND line_no <= 2`);
        const rows = await totals(tx, ENT);
        agree(rows);
        expect(h1(rows)).not.toBe('1/21000/9/261000');
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(h1(await withDivision(t.db, ENT, (tx) => totals(tx, ENT)))).toBe('9/261000/1/21000');
  });
});

// ── Oversight summary ──────────────────────────────────────────────────────────────────────────

describe('oversight summary', () => {
  const countyTotals: SummaryFields = {
    lines: 10,
    due_fen: 282_000,
    paid: 9,
    paid_fen: 261_000,
    failed: 1,
    failed_fen: 21_000,
    pending: 0,
    project_fen: 138_000,
    accuracy: '90.00',
  };

  it('drills down province → city → county → village with accuracy and project funds', async () => {
    const as = await provinceAdmin(ENT);
    const province = provinceOf(ENT);
    const city = cityOf(ENT);
    const url = (query: string) => `/v1/disbursements/summary?${query}`;

    const byCity = await ok<Summary>(await get(url(`division=${province}&period=2013-H1`), as));
    expect(byCity).toMatchObject({ division: province, group_by: 'city', period: '2013-H1' });
    const cityRow = byCity.rows.find((r) => r.code === city);
    expect(cityRow).toMatchObject({ period: '2013-H1', ...countyTotals });
    expect(cityRow?.name).toBeTruthy();

    const byCounty = await ok<Summary>(await get(url(`division=${city}&period=2013-H1`), as));
    expect(byCounty.group_by).toBe('county');
    expect(byCounty.rows).toEqual([
      { code: ENT, name: expect.any(String), period: '2013-H1', ...countyTotals },
    ]);
    expect(byCounty.total).toEqual(countyTotals);

    const villageRows = [
      {
        code: ent.villages.cash,
        name: ent.villageNames[ent.villages.cash],
        period: '2013-H1',
        lines: 8,
        due_fen: 240_000,
        paid: 8,
        paid_fen: 240_000,
        failed: 0,
        failed_fen: 0,
        pending: 0,
        project_fen: 30_000,
        accuracy: '100.00',
      },
      {
        code: ent.villages.project,
        name: ent.villageNames[ent.villages.project],
        period: '2013-H1',
        lines: 0,
        due_fen: 0,
        paid: 0,
        paid_fen: 0,
        failed: 0,
        failed_fen: 0,
        pending: 0,
        project_fen: 90_000,
        accuracy: null,
      },
      {
        code: ent.villages.both,
        name: ent.villageNames[ent.villages.both],
        period: '2013-H1',
        lines: 2,
        due_fen: 42_000,
        paid: 1,
        paid_fen: 21_000,
        failed: 1,
        failed_fen: 21_000,
        pending: 0,
        project_fen: 18_000,
        accuracy: '50.00',
      },
    ];
    const byVillage = await ok<Summary>(
      await get(url(`division=${ENT}&group_by=village&period=2013-H1`), as),
    );
    expect(byVillage).toMatchObject({ division: ENT, group_by: 'village' });
    expect(byVillage.rows).toEqual(villageRows);
    expect(byVillage.total).toEqual(countyTotals);

    // Without a period: the 2026-H2 draft is not counted (approved and later batches only).
    const allPeriods = await ok<Summary>(await get(url(`division=${ENT}&groupBy=village`), as));
    expect(allPeriods.rows).toEqual(villageRows);
    // The county's own staff: their county by default, one level down.
    const own = await ok<Summary>(await get('/v1/disbursements/summary', await clerk(ENT)));
    expect(own).toMatchObject({ division: ENT, group_by: 'village', rows: villageRows });
  });

  it('errors: a level not below the division → 400; a division out of scope → 404', async () => {
    const as = await cityReviewer(ENT);
    const notBelow = await get(`/v1/disbursements/summary?division=${cityOf(ENT)}&group_by=province`, as);
    expect(notBelow.status).toBe(400);
    expect(fields(await problem(notBelow))).toEqual(['query.group_by']);
    const clash = await get('/v1/disbursements/summary?group_by=county&groupBy=village', as);
    expect(clash.status).toBe(400);
    expect((await get(`/v1/disbursements/summary?division=${FLOW}`, as)).status).toBe(404);
    expect((await get(`/v1/disbursements/summary?division=${provinceOf(ENT)}`, as)).status).toBe(404);
  });
});
