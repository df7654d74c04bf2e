import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Database, Sealer } from '@houfu/db';
import { createApp } from './app.js';
import type { KeyStore } from './auth/keys.js';
import { tokenSettingsFrom } from './auth/tokens.js';
import { createAppJobRunner } from './jobs/index.js';
import type { AppConfig } from './lib/config.js';
import type { Logger } from './lib/logger.js';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the API and runs its background jobs until closed; the caller owns the database and closes
 * it afterwards. Closing stops accepting requests, then lets the running job steps finish and hands
 * the jobs back (another process, or this one after a restart, resumes each from its checkpoint).
 */
export async function startServer(
  config: AppConfig,
  db: Database,
  keys: KeyStore,
  sealer: Sealer,
  logger: Logger,
): Promise<RunningServer> {
  const now = () => new Date();
  const jobs = createAppJobRunner(
    { db, sealer, logger, now },
    {
      leaseMs: config.HOUFU_JOB_LEASE_MS,
      pollMs: config.HOUFU_JOB_POLL_MS,
      maxAttempts: config.HOUFU_JOB_MAX_ATTEMPTS,
      concurrency: config.HOUFU_JOB_CONCURRENCY,
    },
  );
  const app = createApp({
    db,
    keys,
    sealer,
    logger,
    jobs,
    tokens: tokenSettingsFrom(config),
    config,
    now,
  });
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, hostname: config.HOST, port: config.PORT },
      (info: AddressInfo) => {
        const url = `http://${config.HOST}:${info.port}`;
        logger.info({ url, driver: db.kind }, 'listening');
        jobs.start();
        resolve({
          url,
          close: async () => {
            await new Promise<void>((done) => server.close(() => done()));
            await jobs.stop();
          },
        });
      },
    );
    (server as Server).headersTimeout = config.HOUFU_REQUEST_TIMEOUT_MS + 5_000;
    server.once('error', reject); // e.g. EADDRINUSE
  });
}
