import { randomUUID } from 'node:crypto';
/** Test support: the app in-process on a fresh test database, tokens and factories (used by api, sdk and cli tests). */
import {
  appendAudit,
  createSealer,
  type Database,
  generateDataKey,
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
  /** Where the app's JSON log lines go (default: discarded). */
  logStream?: NodeJS.WritableStream;
  now?: () => Date;
  /** Job runner settings (lease, attempts). */
  jobs?: Omit<JobRunnerOptions, 'db' | 'logger' | 'handlers'>;
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const keys = await ephemeralKeyStore();
  const config = { ...configSchema.parse({}), ...options.config };
  const sealer = createSealer(generateDataKey());
  const logger = options.logStream ? createLogger('info', options.logStream) : createLogger('silent');
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
    call: (method, path, init = {}) =>
      Promise.resolve(
        app.request(path, {
          method,
          headers: {
            ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
            ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...init.headers,
          },
          ...(init.body !== undefined
            ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }
            : {}),
        }),
      ),
  };
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
