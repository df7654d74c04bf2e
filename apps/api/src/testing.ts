import { createHash, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
/** Test support: the app in-process on a fresh test database, tokens and factories (used by api, sdk and cli tests). */
import {
  appendAudit,
  createSealer,
  type Database,
  insertLocality,
  type Locality,
  type Sealer,
  schema,
  withDivision,
} from '@houfu/db';
import { createTestDatabase, type TestDatabase } from '@houfu/db/testing';
import {
  checkDigit,
  maskBankAccount,
  maskNationalId,
  parseNationalId,
  type Role,
  townshipCodeFrom9,
} from '@houfu/domain';
import { sql } from 'drizzle-orm';
import { createApp } from './app.js';
import { ephemeralKeyStore, type KeyStore } from './auth/keys.js';
import { signUserToken, type TokenSettings, tokenSettingsFrom } from './auth/tokens.js';
import { createAppJobRunner, type JobRunner, type JobRunnerOptions } from './jobs/index.js';
import { type AppConfig, configSchema } from './lib/config.js';
import { createLogger } from './lib/logger.js';

/** The defaults, with a one-hour token age so tests of stale tokens stay short. */
export const tokenSettings: TokenSettings = tokenSettingsFrom({
  ...configSchema.parse({}),
  HOUFU_MAX_TOKEN_AGE: 3600,
});

export interface TestApp extends TestDatabase {
  app: ReturnType<typeof createApp>;
  keys: KeyStore;
  sealer: Sealer;
  /** The job runner, not started: tests drive it with `t.jobs.runUntilIdle()`. */
  jobs: JobRunner;
  token(division: number, roles: Role[], sub?: string): Promise<string>;
  call(
    method: string,
    path: string,
    init?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
}

/** The app in-process on a fresh test database (PGlite by default, PostgreSQL with DATABASE_URL). */
export interface TestAppOptions {
  config?: Partial<AppConfig>;
  /** Where the app's JSON log lines also go (they are always scanned for personal numbers). */
  logStream?: NodeJS.WritableStream;
  now?: () => Date;
  /** Job runner settings (lease, attempts). */
  jobs?: Omit<JobRunnerOptions, 'db' | 'logger' | 'handlers'>;
  /**
   * An embedded PGlite database of the app's own even when DATABASE_URL is set: for a test that stores
   * what no other test file may read on the shared PostgreSQL database (a name carrying personal
   * numbers shows up in the audit events every national role lists).
   */
  embeddedDatabase?: boolean;
}

/**
 * Full personal numbers in a text: 18-character national ID numbers with a valid check digit and
 * UnionPay-style bank account numbers (62 and 14–17 more digits), each standing alone (not a run of
 * digits inside a hash, a UUID or another number). Masked forms never match.
 */
export function personalNumbersIn(text: string): string[] {
  const ids = (text.match(/(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g) ?? []).filter(
    (s) => parseNationalId(s).ok,
  );
  const accounts = text.match(/(?<![0-9A-Za-z])62\d{14,17}(?![0-9A-Za-z])/g) ?? [];
  return [...ids, ...accounts];
}

/** Routes whose answer carries full numbers by design, to callers allowed to see them (audited). */
const REVEALING_ROUTES = [
  /^\/v1\/persons\/[^/]+\/reveal$/,
  /^\/v1\/disbursements\/[^/]+\/bank-file$/,
  // The API document's examples are made-up numbers.
  /^\/openapi\.json$/,
];

/** A request as text, with its token's claims decoded (a caller may be shown its own token's subject). */
function requestText(path: string, headers: Record<string, string>, body: string | undefined): string {
  const claims = (headers.authorization ?? '').split('.')[1] ?? '';
  return `${path} ${JSON.stringify(headers)} ${Buffer.from(claims, 'base64url').toString('utf8')} ${body ?? ''}`;
}

/**
 * Watches every log line and every response of a test app for full ID and bank account numbers
 * (RELIABILITY.md: PII never in a log line, never in a response to a caller who may not see it). A
 * number the request itself carried may be echoed back to its sender; anything else is a leak.
 * Reported when the app is closed, so every test file of the suite is checked.
 */
function piiWatch() {
  const leaks: string[] = [];
  const mask = (n: string) => `${n.slice(0, 4)}…${n.slice(-2)}`;
  let partial = '';
  const logs = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        for (const n of personalNumbersIn(line)) leaks.push(`log line: ${mask(n)} in ${line.slice(0, 200)}`);
      }
      done();
    },
  });
  return {
    logs,
    async response(path: string, request: string, res: Response): Promise<void> {
      if (REVEALING_ROUTES.some((r) => r.test(path.split('?')[0] ?? ''))) return;
      if (!/json|text|csv/.test(res.headers.get('content-type') ?? '')) return;
      const text = await res.clone().text();
      for (const n of personalNumbersIn(text)) {
        if (!request.includes(n)) leaks.push(`response of ${path}: ${mask(n)}`);
      }
    },
    leaks,
  };
}

/** The data key of every test app (a fixed, public test value). */
const TEST_DATA_KEY = createHash('sha256').update('houfu test data key').digest();

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase({ embedded: options.embeddedDatabase ?? false });
  const keys = await ephemeralKeyStore();
  const config = { ...configSchema.parse({}), ...options.config };
  // One data key for every test app: test files share one PostgreSQL database, and a batch or a
  // report of a county may hold persons another file sealed.
  const sealer = createSealer(TEST_DATA_KEY);
  const watch = piiWatch();
  const logger = createLogger('info', options.logStream ? tee(options.logStream, watch.logs) : watch.logs);
  const now = options.now ?? (() => new Date());
  const jobs = createAppJobRunner(
    { db: database.db, sealer, logger, now },
    { queue: `test-${randomUUID()}`, ...options.jobs },
  );
  const app = createApp({
    db: database.db,
    keys,
    sealer,
    tokens: tokenSettings,
    config,
    logger,
    jobs,
    now,
  });
  return {
    ...database,
    close: async () => {
      await database.close();
      if (watch.leaks.length > 0) {
        throw new Error(`personal numbers leaked:\n${watch.leaks.slice(0, 20).join('\n')}`);
      }
    },
    app,
    keys,
    sealer,
    jobs,
    token: (division, roles, sub) =>
      signUserToken(keys, tokenSettings, {
        sub: sub ?? `user:${roles[0]}:${division}`,
        division,
        roles,
        ttlSeconds: 600,
      }),
    call: async (method, path, init = {}) => {
      const headers = {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      };
      const body =
        init.body === undefined
          ? undefined
          : typeof init.body === 'string'
            ? init.body
            : JSON.stringify(init.body);
      const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
      await watch.response(path, requestText(path, headers, body), res);
      return res;
    },
  };
}

/** A writable that copies every chunk to both streams. */
function tee(a: NodeJS.WritableStream, b: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      a.write(chunk);
      b.write(chunk, done);
    },
  });
}

let counter = 0;

/**
 * Factory: a township (and optionally villages) in `county`, with a code unused so far. Written as
 * the county (RLS applies) and audited like any other mutation.
 */
export async function makeTownship(
  db: Database,
  county: number,
  villages = 1,
): Promise<{ township: Locality; villages: Locality[] }> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    counter += 1;
    const n = 200 + ((counter * 37 + Math.floor(Math.random() * 700)) % 800);
    const code = townshipCodeFrom9(county * 1000 + n);
    const made = await withDivision(db, county, async (tx) => {
      const township = await insertLocality(tx, {
        divisionCode: county,
        code,
        level: 'township',
        townshipCode: code,
        name: `测试镇${n}`,
        source: 'local',
      });
      if (!township) return undefined;
      const vs: Locality[] = [];
      for (let v = 1; v <= villages; v += 1) {
        const village = await insertLocality(tx, {
          divisionCode: county,
          code: code + v,
          level: 'village',
          townshipCode: code,
          name: `测试村${n}-${v}`,
          source: 'local',
        });
        if (village) vs.push(village);
      }
      await appendAudit(tx, {
        division: county,
        actor: { sub: 'test:factory', kind: 'system', division: county },
        action: 'locality.create',
        entityType: 'locality',
        entityId: String(code),
        changes: { name: { old: null, new: township.name } },
        requestId: null,
        occurredAt: new Date(),
      });
      return { township, villages: vs };
    });
    if (made) return made;
  }
  throw new Error(`no free township code in ${county}`);
}

let idCounter = 0;

/**
 * A valid 18-digit national ID number for tests: address code, birth date (`YYYY-MM-DD`, default a
 * random day of 1940–1999) and a sequence (odd = male; default random), so that factories rarely
 * draw the same number twice even on a PostgreSQL database shared by every test file.
 */
export function makeNationalId(address: number, birthDate?: string, sequence?: number): string {
  idCounter += 1;
  const birth =
    birthDate ??
    new Date(Date.UTC(1940, 0, 1) + Math.floor(Math.random() * 21_900) * 86_400_000)
      .toISOString()
      .slice(0, 10);
  const seq = sequence ?? Math.floor(Math.random() * 1000);
  const first17 = `${String(address).padStart(6, '0')}${birth.replaceAll('-', '')}${String(seq).padStart(3, '0')}`;
  return first17 + checkDigit(first17);
}

export interface PersonFactoryOptions {
  village?: number;
  householdId?: string;
  name?: string;
  nationalId?: string;
  relationship?: schema.PersonRow['relationship'];
  reservoir?: string;
  relocationDate?: string;
  registeredOn?: string;
  relocateeKind?: 'original' | 'other';
  bankAccount?: string;
  status?: schema.PersonRow['status'];
}

/**
 * Factory: a registered person in `county` (with a new household, and a new township and village
 * unless `village` is given), written as the county with the test app's sealer, like the API does.
 */
export async function makePerson(
  t: { db: Database; sealer: Sealer },
  county: number,
  options: PersonFactoryOptions = {},
): Promise<{ id: string; householdId: string; villageCode: number; nationalId: string; name: string }> {
  const village = options.village ?? (await makeTownship(t.db, county, 1)).villages[0]?.code;
  if (village === undefined) throw new Error('no village');
  const nationalId = options.nationalId ?? makeNationalId(county);
  const parsed = parseNationalId(nationalId);
  if (!parsed.ok) throw new Error(`invalid test ID ${nationalId}: ${parsed.error}`);
  const name = options.name ?? `测试${(idCounter % 900) + 100}`;
  return withDivision(t.db, county, async (tx) => {
    let householdId = options.householdId;
    if (!householdId) {
      const [household] = await tx
        .insert(schema.households)
        .values({ divisionCode: county, householdNo: `T${randomUUID().slice(0, 12)}`, villageCode: village })
        .returning();
      householdId = household?.id as string;
    }
    const [person] = await tx
      .insert(schema.persons)
      .values({
        divisionCode: county,
        householdId,
        relationship: options.relationship ?? 'head',
        name,
        idHash: t.sealer.lookupHash(parsed.value),
        idSealed: t.sealer.seal(parsed.value),
        idMasked: maskNationalId(parsed.value),
        sex: parsed.sex,
        birthDate: parsed.birthDate,
        reservoir: options.reservoir ?? '三峡水库',
        relocationDate: options.relocationDate ?? '2003-05-01',
        relocateeKind: options.relocateeKind ?? 'original',
        registeredOn: options.registeredOn ?? options.relocationDate ?? '2003-05-01',
        ...(options.bankAccount
          ? {
              bankName: '农村信用社',
              bankAccountSealed: t.sealer.seal(options.bankAccount),
              bankAccountMasked: maskBankAccount(options.bankAccount),
            }
          : {}),
        status: options.status ?? 'registered',
      })
      .returning();
    if (!person) throw new Error('person not inserted');
    return { id: person.id, householdId, villageCode: village, nationalId: parsed.value, name };
  });
}

/** One person for {@link makePersons}. */
export interface BulkPersonSpec {
  village: number;
  /** Persons with the same key share a household (default: one household each). */
  household?: string;
  name?: string;
  relocationDate?: string;
  registeredOn?: string;
  /** Digits; none: no bank account. */
  bankAccount?: string;
}

/**
 * Bulk factory: households and persons of `county` in two set-based inserts, written as the county
 * with the app's sealer (the column shapes of {@link makePerson}), for tests that need thousands.
 * National IDs are generated unique within the call. Returns the person ids in spec order.
 */
export async function makePersons(
  t: { db: Database; sealer: Sealer },
  county: number,
  specs: readonly BulkPersonSpec[],
): Promise<{ ids: string[]; nationalIds: string[] }> {
  const households = new Map<string, { id: string; village: number }>();
  const base = Math.floor(Math.random() * 10_000);
  const rows = specs.map((s, i) => {
    const key = s.household ?? `p${i}`;
    if (!households.has(key)) households.set(key, { id: randomUUID(), village: s.village });
    // A distinct (birth date, sequence) per person: 20,000 days × 1,000 sequences.
    const n = base * 1_000 + i;
    const birth = new Date(Date.UTC(1940, 0, 1) + (Math.floor(n / 1000) % 20_000) * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const nid = makeNationalId(county, birth, n % 1000);
    const parsed = parseNationalId(nid);
    if (!parsed.ok) throw new Error(`invalid test ID ${nid}`);
    return {
      id: randomUUID(),
      household: households.get(key)?.id as string,
      name: s.name ?? `移民${i + 1}`,
      hash: t.sealer.lookupHash(nid).toString('hex'),
      sealed: t.sealer.seal(nid).toString('hex'),
      masked: maskNationalId(nid),
      sex: parsed.sex,
      birth: parsed.birthDate,
      relocation: s.relocationDate ?? '2003-05-01',
      registered: s.registeredOn ?? s.relocationDate ?? '2003-05-01',
      bankSealed: s.bankAccount ? t.sealer.seal(s.bankAccount).toString('hex') : '',
      bankMasked: s.bankAccount ? maskBankAccount(s.bankAccount) : '',
      nid,
    };
  });
  const col = <K extends keyof (typeof rows)[number]>(k: K) => sql.param(rows.map((r) => String(r[k])));
  const hh = [...households.entries()];
  await withDivision(t.db, county, async (tx) => {
    await tx.execute(sql`
      INSERT INTO households (division_code, id, household_no, village_code)
      SELECT ${county}::int, id::uuid, 'B' || left(id, 12), village::bigint
      FROM unnest(${sql.param(hh.map(([, h]) => h.id))}::text[], ${sql.param(hh.map(([, h]) => String(h.village)))}::text[])
        AS h (id, village)`);
    await tx.execute(sql`
      INSERT INTO persons (division_code, id, household_id, relationship, name, id_hash, id_sealed, id_masked, sex,
                           birth_date, reservoir, relocation_date, relocatee_kind, registered_on, bank_name,
                           bank_account_sealed, bank_account_masked)
      SELECT ${county}::int, id::uuid, hh::uuid, 'head', name, decode(hash, 'hex'), decode(sealed, 'hex'), masked, sex,
             birth::date, '三峡水库', relocation::date, 'original', registered::date,
             CASE WHEN bank_sealed = '' THEN NULL ELSE '农村信用社' END,
             CASE WHEN bank_sealed = '' THEN NULL ELSE decode(bank_sealed, 'hex') END, nullif(bank_masked, '')
      FROM unnest(${col('id')}::text[], ${col('household')}::text[], ${col('name')}::text[], ${col('hash')}::text[],
                  ${col('sealed')}::text[], ${col('masked')}::text[], ${col('sex')}::text[], ${col('birth')}::text[],
                  ${col('relocation')}::text[], ${col('registered')}::text[], ${col('bankSealed')}::text[],
                  ${col('bankMasked')}::text[])
        AS p (id, hh, name, hash, sealed, masked, sex, birth, relocation, registered, bank_sealed, bank_masked)`);
  });
  return { ids: rows.map((r) => r.id), nationalIds: rows.map((r) => r.nid) };
}

/** How far {@link makeDisbursement} takes a batch. */
export type DisbursementStage = 'draft' | 'approved' | 'exported' | 'returned';

/**
 * Factory: a regular payment batch of `county` for `period`, through the API (a clerk prepares, the
 * job computes, an approver approves, the clerk downloads the bank file), taken to `stage`.
 * `returned` also applies a return file in which the first line failed, the others were paid, and one
 * row carries an unknown reference: a failed line and an open exception. The county needs persons.
 */
export async function makeDisbursement(
  t: TestApp,
  county: number,
  period: string,
  stage: DisbursementStage,
): Promise<{ id: string; contentHash: string; references: string[]; exceptionId?: string; failed?: string }> {
  const clerk = await t.token(county, ['county_operator'], `user:factory-clerk:${county}`);
  const approver = await t.token(county, ['county_approver'], `user:factory-approver:${county}`);
  const must = async (res: Response, status: number) => {
    if (res.status !== status) throw new Error(`${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const created = await must(
    await t.call('POST', '/v1/disbursements', {
      token: clerk,
      body: { period },
      headers: { 'idempotency-key': randomUUID() },
    }),
    202,
  );
  const id = created.id as string;
  await t.jobs.runUntilIdle();
  const batch = await must(await t.call('GET', `/v1/disbursements/${id}`, { token: clerk }), 200);
  const contentHash = batch.content_hash as string;
  const page = await must(
    await t.call('GET', `/v1/disbursements/${id}/lines?limit=200`, { token: clerk }),
    200,
  );
  const lines = page.data as { reference: string; amount_fen: number }[];
  const references = lines.map((l) => l.reference);
  if (stage === 'draft') return { id, contentHash, references };
  await must(
    await t.call('POST', `/v1/disbursements/${id}/approve`, {
      token: approver,
      body: { content_hash: contentHash },
    }),
    200,
  );
  if (stage === 'approved') return { id, contentHash, references };
  const file = await t.call('POST', `/v1/disbursements/${id}/bank-file`, {
    token: clerk,
    body: { format: 'csv', reason: '测试报送' },
  });
  if (file.status !== 200) throw new Error(`${file.status} ${await file.text()}`);
  await file.arrayBuffer();
  if (stage === 'exported') return { id, contentHash, references };
  const yuan = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
  const rows = lines.map((l, i) =>
    i === 0
      ? `${l.reference},${yuan(l.amount_fen)},失败,账户已销户`
      : `${l.reference},${yuan(l.amount_fen)},成功,`,
  );
  const unknown = `${county}-2000-H1-99-0000001`;
  const csv = ['参考号,金额,结果,失败原因', ...rows, `${unknown},300.00,成功,`].join('\n');
  await must(
    await t.call('POST', `/v1/disbursements/${id}/returns`, {
      token: clerk,
      body: csv,
      headers: { 'content-type': 'text/csv' },
    }),
    201,
  );
  const exceptions = await must(
    await t.call('GET', `/v1/disbursements/${id}/exceptions`, { token: clerk }),
    200,
  );
  const exception = (exceptions.data as { id: string; reference: string }[]).find(
    (e) => e.reference === unknown,
  );
  return { id, contentHash, references, exceptionId: exception?.id, failed: references[0] };
}
