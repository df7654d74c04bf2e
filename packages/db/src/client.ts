import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema.js';

export type Schema = typeof schema;
/** A transaction handle: query functions take it first, never a database singleton. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type Orm = PgDatabase<PgQueryResultHKT, Schema>;

/** The role every request runs as: owns nothing, NOSUPERUSER, NOBYPASSRLS, table grants only. */
export const API_ROLE = 'houfu_api';
/** The role that owns the schema; migrations run as it. */
export const OWNER_ROLE = 'houfu_owner';

export interface DatabaseOptions {
  /** postgres:// URL; absent means the embedded PGlite database. */
  url?: string | undefined;
  /** PGlite data directory (absent: in memory). Ignored with `url`. */
  dataDir?: string | undefined;
  /** An existing PGlite instance (tests load one from a migrated template). */
  pglite?: PGlite | undefined;
  /** postgres.js pool size. */
  max?: number | undefined;
  /** Milliseconds; must stay below the HTTP timeout so the database stops abandoned work. */
  statementTimeoutMs?: number | undefined;
  /**
   * Whether each transaction must `SET LOCAL ROLE houfu_api` (true when the connection's own user is a
   * superuser or the owner: PGlite, the CLI). The API server connects as houfu_api and needs no switch.
   */
  assumeApiRole?: boolean | undefined;
}

/** PGlite (embedded) and postgres.js (server) behind one interface. */
export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly orm: Orm;
  /** Whether transactions switch to the API role first. */
  readonly assumeApiRole: boolean;
  /** Runs several statements separated by `;` (migrations, administrative scripts). */
  exec(sqlText: string): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;

export async function createDatabase(options: DatabaseOptions = {}): Promise<Database> {
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  if (options.url) {
    const client = postgres(options.url, {
      max: options.max ?? 10,
      idle_timeout: 30,
      connect_timeout: 10,
      max_lifetime: 60 * 30,
      // While the database is down, a request waits for a reconnect attempt and then fails (503).
      // The driver's default backoff grows to 20 s after a few failed attempts, so requests would
      // hang until the HTTP timeout; capped at 1 s, they fail fast and the pool is back within a
      // second of the database.
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
      onnotice: () => {},
      connection: {
        application_name: 'houfu',
        statement_timeout: statementTimeoutMs,
        idle_in_transaction_session_timeout: statementTimeoutMs,
        lock_timeout: statementTimeoutMs,
        // A killed API process leaves its backend running the current statement (and holding its
        // locks) until it next writes to the socket; PostgreSQL checks the client every second
        // instead and ends the work of a client that is gone.
        client_connection_check_interval: 1000,
        // Timestamps come back as ISO text in UTC whatever the server's defaults: parsed exactly,
        // and audit hashes computed over them stay stable.
        DateStyle: 'ISO, YMD',
        TimeZone: 'UTC',
      },
    });
    const orm = drizzlePostgres({ client: preparing(client), schema }) as unknown as Orm;
    return {
      kind: 'postgres',
      orm,
      assumeApiRole: options.assumeApiRole ?? false,
      exec: async (text) => {
        await client.unsafe(text).simple();
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const pglite =
    options.pglite ?? (await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : undefined));
  // PGlite runs in this thread: it accepts statement_timeout but cannot interrupt a running query.
  await pglite.exec(
    `SET statement_timeout = ${Math.trunc(statementTimeoutMs)}; SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'`,
  );
  const orm = drizzlePglite({ client: pglite, schema }) as unknown as Orm;
  return {
    kind: 'pglite',
    orm,
    assumeApiRole: options.assumeApiRole ?? true,
    exec: async (text) => {
      await pglite.exec(text);
    },
    close: () => pglite.close(),
  };
}

/**
 * Queries with more parameters than this are sent unnamed (multi-row inserts, long `IN` lists): their
 * text varies with the row count, so preparing them would only fill each connection's statement cache.
 */
export const MAX_PREPARED_PARAMETERS = 64;

/**
 * The postgres.js client as drizzle should see it: every parameterised query is sent as a named
 * prepared statement, cached per connection by postgres.js (as its own tagged queries are).
 *
 * drizzle passes `prepare: false` unless a query was given a name, and postgres.js then sends each
 * parameterised query as Parse + Describe, waits for the answer, then Bind + Execute: two round trips
 * per query. Prepared, a query is one round trip from its second use on a connection. Queries without
 * parameters already take one round trip and keep drizzle's choice. Row-level security is unaffected:
 * PostgreSQL re-plans a cached statement when the role changes, and the policies read the scope
 * settings (`current_setting`) when the statement runs, not when it is planned.
 */
function preparing(client: postgres.Sql): postgres.Sql {
  const prepared = (sql: postgres.Sql): postgres.Sql =>
    new Proxy(sql, {
      get(target, key, receiver) {
        if (key === 'unsafe') {
          return (query: string, params?: unknown[], options?: { prepare?: boolean }) =>
            target.unsafe(
              query,
              params as postgres.ParameterOrJSON<never>[],
              params && params.length > 0 && params.length <= MAX_PREPARED_PARAMETERS
                ? { ...options, prepare: true }
                : options,
            );
        }
        if (key === 'begin') {
          return (...args: unknown[]) => {
            const fn = args.pop() as (sql: postgres.Sql) => unknown;
            return (target.begin as (...a: unknown[]) => unknown)(...args, (tx: postgres.Sql) =>
              fn(prepared(tx)),
            );
          };
        }
        if (key === 'savepoint') {
          const savepoint = Reflect.get(target, key, receiver) as ((...a: unknown[]) => unknown) | undefined;
          if (typeof savepoint !== 'function') return savepoint;
          return (...args: unknown[]) => {
            const fn = args.pop() as (sql: postgres.Sql) => unknown;
            return savepoint(...args, (sp: postgres.Sql) => fn(prepared(sp)));
          };
        }
        return Reflect.get(target, key, receiver);
      },
    });
  return prepared(client);
}

/**
 * The URL the API server uses: the same server and database as the administrative URL, logged in as
 * houfu_api (its password from HOUFU_API_PASSWORD when the server needs one), unless given outright.
 */
export function apiDatabaseUrl(adminUrl: string, explicit?: string, password?: string): string {
  if (explicit) return explicit;
  const url = new URL(adminUrl);
  url.username = API_ROLE;
  url.password = password ?? '';
  return url.toString();
}
