import { createApp } from './app.js';
import { configSchema } from './lib/config.js';
import type { AppDeps } from './lib/types.js';
import { openApiDocumentOf } from './openapi.js';

/**
 * The OpenAPI 3.1 document, built from the route contracts without starting a server or opening a
 * database: routes read their dependencies per request, and no request is served here.
 */
export function openApiDocument() {
  const config = configSchema.parse({});
  const app = createApp({ config } as unknown as AppDeps);
  return openApiDocumentOf(app);
}
