import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type AppConfig,
  createLogger,
  type KeyFile,
  type KeyStore,
  keyStoreFrom,
  loadOrCreateKeyFile,
  readKeyFile,
} from '@houfu/api';
import {
  apiDatabaseUrl,
  createDatabase,
  type Database,
  generateDataKey,
  getDivision,
  parseDataKey,
  withDivision,
} from '@houfu/db';
import { NATION } from '@houfu/domain';
import lockfile from 'proper-lockfile';

export const keyFilePath = (config: AppConfig) =>
  config.HOUFU_JWKS_PATH ?? join(config.HOUFU_DATA_DIR, 'keys', 'jwks.json');

/** The signing keys; only development commands (`dev`, `token`) create a key file when it is missing. */
export async function loadKeys(
  config: AppConfig,
  options: { create: boolean },
): Promise<{ file: KeyFile; store: KeyStore }> {
  const path = keyFilePath(config);
  const file = options.create ? await loadOrCreateKeyFile(path) : await readKeyFile(path);
  if (!file)
    throw new Error(
      `no signing keys at ${path}: create them with \`houfu keys add\` (or set HOUFU_JWKS_PATH)`,
    );
  return { file, store: await keyStoreFrom(file) };
}

/**
 * The data key that seals national IDs and bank accounts: HOUFU_DATA_KEY, else the file at
 * HOUFU_DATA_KEY_PATH (default HOUFU_DATA_DIR/keys/data-key). Only `dev` creates the file (mode 0600);
 * losing it makes sealed values unreadable, so production sets the key from a secret store.
 */
export async function loadDataKey(config: AppConfig, options: { create: boolean }): Promise<Buffer> {
  if (config.HOUFU_DATA_KEY) return parseDataKey(config.HOUFU_DATA_KEY);
  const path = config.HOUFU_DATA_KEY_PATH ?? join(config.HOUFU_DATA_DIR, 'keys', 'data-key');
  try {
    return parseDataKey(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!options.create) {
      throw new Error(`no data key: set HOUFU_DATA_KEY (32 bytes, base64) or create ${path}`);
    }
    const key = generateDataKey();
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
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
 * The directory is claimed with proper-lockfile (a lock directory refreshed every 10 s; one left by a
 * process that died is taken over after a minute).
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(dataDir, {
      lockfilePath: `${dataDir}.lock`,
      realpath: false,
      stale: 60_000,
      update: 10_000,
      // A long blocking query can delay a refresh; say so rather than crash the server.
      onCompromised: (error) =>
        console.error(`warning: the lock on ${dataDir} was compromised: ${error.message}`),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new Error(`the embedded database ${dataDir} is in use by another process; stop it first`);
    }
    throw error;
  }
}

/** Whether the server runs on PostgreSQL (either URL set) rather than the embedded PGlite. */
export const usesPostgres = (config: AppConfig) => Boolean(config.DATABASE_URL || config.API_DATABASE_URL);

/**
 * The API's database: on PostgreSQL a pool logged in as houfu_api (API_DATABASE_URL, or derived from
 * DATABASE_URL), never the administrative login; embedded, the one PGlite instance.
 */
export async function openApiDatabase(config: AppConfig): Promise<Database> {
  if (!usesPostgres(config)) return openAdminDatabase(config);
  const url =
    config.API_DATABASE_URL ??
    apiDatabaseUrl(config.DATABASE_URL ?? '', undefined, config.HOUFU_API_PASSWORD);
  return createDatabase({
    url,
    max: config.HOUFU_DB_POOL_MAX,
    statementTimeoutMs: config.HOUFU_STATEMENT_TIMEOUT_MS,
  });
}

export const cliLogger = (config: AppConfig) => createLogger(config.LOG_LEVEL);

/** Whether `houfu migrate` has run: the division dictionary is readable (by the API role too). */
export async function dictionaryLoaded(db: Database): Promise<boolean> {
  try {
    return (await withDivision(db, NATION, (tx) => getDivision(tx, NATION))) !== undefined;
  } catch {
    return false;
  }
}
