import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';
import type { AppEnv, AppOpenAPI } from './lib/types.js';

const API_VERSION = '0.1.0';

export const openApiConfig: Parameters<AppOpenAPI['getOpenAPI31Document']>[0] = {
  openapi: '3.1.0',
  info: {
    title: 'Houfu 后扶 API',
    version: API_VERSION,
    description:
      'The API of Houfu, the platform for reservoir-resettlement post-relocation support (水库移民后期扶持). Every tenant-owned resource belongs to an administrative division (GB/T 2260); a caller sees its division and everything below it. Errors are RFC 9457 problem+json with a stable `code`. See docs/api-guide.md for authentication, pagination, idempotency and versioning.',
  },
  servers: [{ url: 'http://127.0.0.1:8787', description: 'Local development server' }],
  tags: [
    { name: 'auth', description: 'Integrator client credentials → access tokens.' },
    { name: 'me', description: 'The caller.' },
    { name: 'divisions', description: '行政区划: the division dictionary.' },
    { name: 'localities', description: '乡镇与村: townships and villages inside a county.' },
    { name: 'audit', description: '审计: the append-only, hash-chained audit trail.' },
    { name: 'system', description: 'Health and keys.' },
  ],
};

export function registerOpenApi(app: AppOpenAPI) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'An ES256 access token (typ at+jwt) signed by this deployment’s keys: an integrator token from POST /v1/oauth/token, or a user token minted with `houfu token` (no identity-provider login is built yet).',
  });
  app.doc31('/openapi.json', openApiConfig);
}

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const assets: Record<string, { file: string; type: string }> = {
  'swagger-ui.css': { file: 'swagger-ui.css', type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' },
};
const cache = new Map<string, string>();

const page = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>后扶 Houfu API 文档</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`;

const init = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true, validatorUrl: null });`;

/** The reference page, from local assets only (government networks are often offline: no CDN). */
export function registerDocsPage(app: Hono<AppEnv>) {
  app.get('/docs', (c) => c.html(page));
  app.get('/docs/init.js', (c) => c.body(init, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  app.get('/docs/assets/:name', (c) => {
    const asset = assets[c.req.param('name')];
    if (!asset) return c.notFound();
    let text = cache.get(asset.file);
    if (text === undefined) {
      text = readFileSync(join(swaggerDir, asset.file), 'utf8');
      cache.set(asset.file, text);
    }
    return c.body(text, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' });
  });
}
