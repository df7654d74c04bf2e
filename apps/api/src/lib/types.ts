import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Database, Sealer, Tx } from '@houfu/db';
import type { KeyStore } from '../auth/keys.js';
import type { Principal, TokenSettings } from '../auth/tokens.js';
import type { JobRunner } from '../jobs/runner.js';
import type { RateLimitHeaders } from '../middleware/rate-limit.js';
import type { AppConfig } from './config.js';
import type { Logger } from './logger.js';

/** Everything a request needs, injected at app creation (no module-level singletons). */
export interface AppDeps {
  db: Database;
  keys: KeyStore;
  /** Seals, hashes and opens national IDs and bank accounts (see @houfu/db sealing). */
  sealer: Sealer;
  tokens: TokenSettings;
  config: Pick<
    AppConfig,
    | 'HOUFU_CLIENT_TOKEN_TTL'
    | 'HOUFU_REQUEST_TIMEOUT_MS'
    | 'HOUFU_RATE_LIMIT_PER_MINUTE'
    | 'HOUFU_IMPORT_MAX_BYTES'
    | 'HOUFU_UPLOAD_TIMEOUT_MS'
  >;
  logger: Logger;
  /** The background job runner: routes that enqueue a job `kick()` it. */
  jobs: Pick<JobRunner, 'kick' | 'queue'>;
  /** The clock (tests pass a fixed one). */
  now: () => Date;
}

export interface AppEnv {
  Variables: {
    deps: AppDeps;
    requestId: string;
    principal: Principal;
    /** The request's tenant-scoped transaction (set by the tenant middleware). */
    tx: Tx;
    /** Runs `fn` once the request's transaction has committed (never after a rollback). */
    afterCommit: (fn: () => void) => void;
    /** The caller's rate-limit budget once `rateLimit` has counted the request. */
    rateLimit?: RateLimitHeaders;
  };
}

export type AppOpenAPI = OpenAPIHono<AppEnv>;
