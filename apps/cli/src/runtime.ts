import { mkdir } from 'node:fs/promises';
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
  return createDatabase({ dataDir, statementTimeoutMs: config.HOUFU_STATEMENT_TIMEOUT_MS });
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
