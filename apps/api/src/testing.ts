/** Test support: the app in-process on a fresh test database, tokens and factories (used by api, sdk and cli tests). */
import { appendAudit, type Database, insertLocality, type Locality, withDivision } from '@houfu/db';
import { createTestDatabase, type TestDatabase } from '@houfu/db/testing';
import { type Role, townshipCodeFrom9 } from '@houfu/domain';
import { createApp } from './app.js';
import { ephemeralKeyStore, type KeyStore } from './auth/keys.js';
import { signUserToken, type TokenSettings, tokenSettingsFrom } from './auth/tokens.js';
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
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const keys = await ephemeralKeyStore();
  const config = { ...configSchema.parse({}), ...options.config };
  const app = createApp({
    db: database.db,
    keys,
    tokens: tokenSettings,
    config,
    logger: options.logStream ? createLogger('info', options.logStream) : createLogger('silent'),
    now: options.now ?? (() => new Date()),
  });
  return {
    ...database,
    app,
    keys,
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
