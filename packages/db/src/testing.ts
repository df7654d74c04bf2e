import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { apiDatabaseUrl, createDatabase, type Database } from './client.js';
import { migrate, readMigrations } from './migrate.js';
import { loadDivisionDictionary } from './seed.js';

/**
 * Test databases. Default: an in-process PGlite loaded from a migrated template (built once per
 * migration set and cached on disk, ~0.5 s to load instead of a cold boot and migration). With
 * DATABASE_URL: that PostgreSQL, migrated once, with the API logging in as houfu_api.
 */
export interface TestDatabase {
  /** The connection the API uses (RLS applies; on PostgreSQL it logs in as houfu_api). */
  db: Database;
  /** An administrative connection (superuser/owner): for setting up role-boundary tests only. */
  admin: Database;
  close(): Promise<void>;
}

export const usingPostgres = (): boolean => Boolean(process.env.DATABASE_URL);

async function templatePath(): Promise<string> {
  const migrations = await readMigrations();
  const key = createHash('sha256')
    .update(migrations.map((m) => m.checksum).join(','))
    .digest('hex')
    .slice(0, 16);
  return join(tmpdir(), 'houfu-test', `template-${key}.tar`);
}

/** Builds the migrated PGlite template if it is not cached yet; returns its path. */
export async function ensurePgliteTemplate(): Promise<string> {
  const path = await templatePath();
  try {
    await readFile(path);
    return path;
  } catch {
    const pglite = await PGlite.create();
    const db = await createDatabase({ pglite });
    await migrate(db);
    await loadDivisionDictionary(db);
    const dump = await pglite.dumpDataDir('none');
    await mkdir(join(tmpdir(), 'houfu-test'), { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}`;
    await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
    await rename(tmp, path);
    await pglite.close();
    return path;
  }
}

let postgresReady: Promise<void> | undefined;

/** Migrates the PostgreSQL of DATABASE_URL and loads the dictionary (once per process). */
export function preparePostgres(url = process.env.DATABASE_URL ?? ''): Promise<void> {
  postgresReady ??= (async () => {
    const admin = await createDatabase({ url, max: 1 });
    try {
      await migrate(admin);
      await loadDivisionDictionary(admin);
    } finally {
      await admin.close();
    }
  })();
  return postgresReady;
}

/**
 * A test database: on the shared PostgreSQL of DATABASE_URL when set, else a fresh embedded PGlite.
 * `embedded` asks for PGlite whatever DATABASE_URL says, for a test whose data must not reach the
 * other test files through the shared database.
 */
export async function createTestDatabase(options: { embedded?: boolean } = {}): Promise<TestDatabase> {
  const url = options.embedded ? undefined : process.env.DATABASE_URL;
  if (url) {
    await preparePostgres(url);
    const db = await createDatabase({ url: apiDatabaseUrl(url), max: 4 });
    const admin = await createDatabase({ url, max: 1 });
    return { db, admin, close: async () => void (await Promise.all([db.close(), admin.close()])) };
  }
  const blob = new Blob([await readFile(await ensurePgliteTemplate())]);
  const pglite = await PGlite.create({ loadDataDir: blob });
  const db = await createDatabase({ pglite });
  // PGlite's session user is a superuser: the same instance serves as the administrative handle.
  const admin: Database = { ...db, orm: db.orm, assumeApiRole: false };
  return { db, admin, close: () => pglite.close() };
}
