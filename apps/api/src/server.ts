import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Database, Sealer } from '@houfu/db';
import { createApp } from './app.js';
import type { KeyStore } from './auth/keys.js';
import { tokenSettingsFrom } from './auth/tokens.js';
import type { AppConfig } from './lib/config.js';
import type { Logger } from './lib/logger.js';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the API until closed; the caller owns the database and closes it afterwards. */
export async function startServer(
  config: AppConfig,
  db: Database,
  keys: KeyStore,
  sealer: Sealer,
  logger: Logger,
): Promise<RunningServer> {
  const app = createApp({
    db,
    keys,
    sealer,
    logger,
    tokens: tokenSettingsFrom(config),
    config,
    now: () => new Date(),
  });
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, hostname: config.HOST, port: config.PORT },
      (info: AddressInfo) => {
        const url = `http://${config.HOST}:${info.port}`;
        logger.info({ url, driver: db.kind }, 'listening');
        resolve({
          url,
          close: () => new Promise<void>((done) => server.close(() => done())),
        });
      },
    );
    (server as Server).headersTimeout = config.HOUFU_REQUEST_TIMEOUT_MS + 5_000;
    server.once('error', reject); // e.g. EADDRINUSE
  });
}
