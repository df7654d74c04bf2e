import { z } from 'zod';

/** Environment configuration of the API server (documented in docs/operations.md). */
export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().default('127.0.0.1'),
  /** Administrative PostgreSQL URL (migrations); absent → embedded PGlite under HOUFU_DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  /** The API's own login (houfu_api); derived from DATABASE_URL when absent. */
  API_DATABASE_URL: z.string().url().optional(),
  HOUFU_API_PASSWORD: z.string().optional(),
  HOUFU_DATA_DIR: z.string().default('.data'),
  /** Private JWKS file (signing keys); generated with a dev key on first run when absent. */
  HOUFU_JWKS_PATH: z.string().optional(),
  /**
   * The 32-byte data key (base64) that seals national IDs and bank accounts and keys their lookup
   * hashes; absent → HOUFU_DATA_KEY_PATH, else a key file generated under HOUFU_DATA_DIR by `dev`.
   */
  HOUFU_DATA_KEY: z.string().optional(),
  HOUFU_DATA_KEY_PATH: z.string().optional(),
  /** Largest accepted import file (CSV or XLSX), in bytes. */
  HOUFU_IMPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(2 ** 31)
    .default(256 * 1024 * 1024),
  /** HTTP timeout of a file upload (`POST /v1/imports`), which streams the body into the database. */
  HOUFU_UPLOAD_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(600_000),
  /** How long a job stays claimed without a heartbeat: after a crash, another process resumes it then. */
  HOUFU_JOB_LEASE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  /** How often an idle job runner looks for work (it is also woken after every enqueue). */
  HOUFU_JOB_POLL_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
  /** Claims of one job (crashes included; clean shutdowns not) before it fails for good. */
  HOUFU_JOB_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /**
   * How many jobs one process runs at once (e.g. the import jobs of several counties); two jobs of one
   * county and kind never run at once whatever this says.
   */
  HOUFU_JOB_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  HOUFU_ISSUER: z.string().default('houfu'),
  HOUFU_AUDIENCE: z.string().default('houfu-api'),
  /** Longest accepted token age in seconds, user and integrator tokens alike (older ones are refused even if unexpired). */
  HOUFU_MAX_TOKEN_AGE: z.coerce.number().int().min(60).max(86_400).default(43_200),
  HOUFU_CLIENT_TOKEN_TTL: z.coerce.number().int().min(60).max(3_600).default(900),
  HOUFU_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  HOUFU_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(200).max(300_000).default(15_000),
  HOUFU_DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  HOUFU_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'),
});

export type AppConfig = z.infer<typeof configSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = configSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  if (parsed.data.HOUFU_STATEMENT_TIMEOUT_MS >= parsed.data.HOUFU_REQUEST_TIMEOUT_MS) {
    throw new Error('HOUFU_STATEMENT_TIMEOUT_MS must be below HOUFU_REQUEST_TIMEOUT_MS');
  }
  if (parsed.data.HOUFU_CLIENT_TOKEN_TTL > parsed.data.HOUFU_MAX_TOKEN_AGE) {
    throw new Error(
      'HOUFU_CLIENT_TOKEN_TTL must not exceed HOUFU_MAX_TOKEN_AGE (tokens would be refused before they expire)',
    );
  }
  return parsed.data;
}
