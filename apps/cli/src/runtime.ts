import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AppConfig,
  createLogger,
  type KeyFile,
  type KeyStore,
  keyStoreFrom,
  loadOrCreateKeyFile,
  type TokenSettings,
} from '@houfu/api';
import { apiDatabaseUrl, createDatabase, type Database } from '@houfu/db';

export const keyFilePath = (config: AppConfig) =>
  config.HOUFU_JWKS_PATH ?? join(config.HOUFU_DATA_DIR, 'keys', 'jwks.json');

export const tokenSettings = (config: AppConfig): TokenSettings => ({
  issuer: config.HOUFU_ISSUER,
  audience: config.HOUFU_AUDIENCE,
  maxTokenAge: config.HOUFU_MAX_TOKEN_AGE,
});

export async function loadKeys(config: AppConfig): Promise<{ file: KeyFile; store: KeyStore }> {
  const file = await loadOrCreateKeyFile(keyFilePath(config));
  return { file, store: await keyStoreFrom(file) };
}

/**
 * The administrative database: DATABASE_URL (one connection, as its owner/superuser) or the embedded
 * PGlite under HOUFU_DATA_DIR/pglite. Tenant writes through it still switch to houfu_api with a scope.
 */
export async function openAdminDatabase(config: AppConfig): Promise<Database> {
  if (config.DATABASE_URL) {
    return createDatabase({
      url: config.DATABASE_URL,
      max: 1,
      assumeApiRole: true,
      statementTimeoutMs: 600_000,
    });
  }
  const dataDir = join(config.HOUFU_DATA_DIR, 'pglite');
  await mkdir(dataDir, { recursive: true });
  const release = await lockDataDir(dataDir);
  try {
    const db = await createDatabase({ dataDir, statementTimeoutMs: config.HOUFU_STATEMENT_TIMEOUT_MS });
    return { ...db, close: () => db.close().finally(release) };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * PGlite is one process's database: a second process opening the same directory would corrupt it.
 * A pid file claims the directory; one left by a process that no longer runs is taken over.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = join(dataDir, '..', 'pglite.pid');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(file, 'utf8').catch(() => ''));
      if (holder && holder !== process.pid && isRunning(holder)) {
        throw new Error(`the embedded database ${dataDir} is in use by process ${holder}; stop it first`);
      }
      await rm(file, { force: true });
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The API's database: on PostgreSQL a pool logged in as houfu_api; embedded, the one PGlite instance. */
export async function openApiDatabase(config: AppConfig, embedded?: Database): Promise<Database> {
  if (!config.DATABASE_URL) return embedded ?? openAdminDatabase(config);
  return createDatabase({
    url: apiDatabaseUrl(config.DATABASE_URL, config.API_DATABASE_URL, config.HOUFU_API_PASSWORD),
    max: config.HOUFU_DB_POOL_MAX,
    statementTimeoutMs: config.HOUFU_STATEMENT_TIMEOUT_MS,
  });
}

export const cliLogger = (config: AppConfig) => createLogger(config.LOG_LEVEL);
