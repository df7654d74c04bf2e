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
  servers: [
    {
      url: '/',
      description:
        'The deployment that serves this document (local, staging or production): the API is on the same origin.',
      'x-internal': false,
    },
  ],
  tags: [
    { name: 'auth', description: 'Integrator client credentials → access tokens.' },
    { name: 'me', description: 'The caller.' },
    { name: 'divisions', description: '行政区划: the division dictionary.' },
    { name: 'localities', description: '乡镇与村: townships and villages inside a county.' },
    {
      name: 'registry',
      description:
        '移民登记: households, persons and their events, annual verification, conflicts, the public notice and totals.',
    },
    {
      name: 'imports',
      description: '批量导入: registry files (CSV, XLSX) imported by a job, with a per-row report.',
    },
    { name: 'jobs', description: 'Background jobs (imports, payment batches) and their progress.' },
    {
      name: 'policy',
      description: '政策参数: national defaults, province overrides, county and village payment modes.',
    },
    {
      name: 'disbursements',
      description: '直补资金发放: payment batches, approval, bank files, bank returns and reconciliation.',
    },
    {
      name: 'projects',
      description:
        '后扶项目: post-support projects, their funding lines and approval route; fund allocations 资金下达 and county balances 资金结存.',
    },
    {
      name: 'demonstration',
      description:
        '示范村: demonstration villages (小康示范村/美丽家园) applied for by a county, assessed, named and re-assessed by the province; villages’ collective incomes 村集体收入.',
    },
    {
      name: 'progress',
      description:
        '双过半: the counties’ progress targets, their reported figures and the report per division.',
    },
    {
      name: 'vocational-aid',
      description:
        '移民子女职业教育资助: vocational education aid for migrants’ children — application, village posting, township review, county payment.',
    },
    {
      name: 'training',
      description:
        '移民培训: annual training plans and their approval route, providers 承训单位 and competitive selection, sessions against the approved budget, and the plan-vs-done report (双过半).',
    },
    { name: 'audit', description: '审计: the append-only, hash-chained audit trail.' },
    { name: 'system', description: 'Health and keys.' },
  ],
};

/** Integer bounds as numbers: what `.int()` accepts (safe integers), and what fits in int32. */
const SAFE_INTEGER = { minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };
const INT32 = { minimum: -(2 ** 31), maximum: 2 ** 31 - 1 };

const seconds = { type: 'integer', format: 'int32', minimum: 1, maximum: 60 } as const;
const headers = {
  'RateLimit-Limit': {
    description:
      'Requests allowed in the current one-minute window by the budget that counted this request, per server process: HOUFU_RATE_LIMIT_PER_MINUTE per caller (token endpoint: 30 per client id, 300 per address). Sent with every response to a counted request; not with a 401, nor with a 413 refused on its Content-Length, both answered before the caller is known.',
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 1_000_000 },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the current window.',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 1_000_000 },
  },
  'RateLimit-Reset': { description: 'Seconds until the current window ends.', schema: seconds },
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: seconds },
} as const;
const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'] as const;
const ref = (name: keyof typeof headers) => ({ $ref: `#/components/headers/${name}` });

type Document = ReturnType<AppOpenAPI['getOpenAPI31Document']>;
type Schema = Record<string, unknown>;
interface Media {
  schema?: unknown;
}
interface Response {
  headers?: Record<string, unknown>;
  content?: Record<string, Media>;
}
/** An operation as this app's generator writes it: parameters, bodies and responses inline. */
interface Operation {
  security?: unknown[];
  parameters?: Media[];
  requestBody?: { content?: Record<string, Media> };
  responses: Record<string, Response>;
}

function operations(doc: Document): Operation[] {
  return Object.values(doc.paths ?? {}).flatMap((item) =>
    Object.values(item as Record<string, unknown>).filter(
      (op): op is Operation => typeof op === 'object' && op !== null && 'responses' in op,
    ),
  );
}

/**
 * The per-caller rate limit (`middleware/rate-limit.ts`) counts every authenticated request once the
 * caller is known, and every response to it then carries the caller's budget: every 2xx and 4xx of an
 * operation with `security`, except 401 (refused before the caller is known). Every 429 — the token
 * endpoint's too, from its own budgets — carries the budget that refused it and Retry-After.
 */
function declareRateLimits(doc: Document) {
  for (const op of operations(doc)) {
    const counted = (op.security?.length ?? 0) > 0;
    for (const [status, response] of Object.entries(op.responses)) {
      if (status !== '429' && !(counted && /^[24]/.test(status) && status !== '401')) continue;
      response.headers = {
        ...response.headers,
        ...Object.fromEntries(RATE_LIMIT_HEADERS.map((name) => [name, ref(name)])),
        ...(status === '429' ? { 'Retry-After': ref('Retry-After') } : {}),
      };
    }
  }
}

/** Calls `visit` on a schema and on every schema inside it (not through `$ref`s). */
function eachSchema(schema: unknown, visit: (s: Schema) => void) {
  if (!schema || typeof schema !== 'object' || '$ref' in schema) return;
  const s = schema as Schema;
  visit(s);
  for (const sub of Object.values((s.properties ?? {}) as Record<string, unknown>)) eachSchema(sub, visit);
  for (const key of ['items', 'additionalProperties', 'not']) eachSchema(s[key], visit);
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    for (const sub of (s[key] ?? []) as unknown[]) eachSchema(sub, visit);
  }
}

/** Every schema of the document: components, parameters, request and response bodies and headers. */
function eachDocumentSchema(doc: Document, visit: (s: Schema) => void) {
  for (const s of Object.values(doc.components?.schemas ?? {})) eachSchema(s, visit);
  for (const op of operations(doc)) {
    const media = [
      ...(op.parameters ?? []),
      ...Object.values(op.requestBody?.content ?? {}),
      ...Object.values(op.responses).flatMap((r) => [
        ...Object.values(r.content ?? {}),
        ...(Object.values(r.headers ?? {}) as Media[]),
      ]),
    ];
    for (const m of media) eachSchema(m.schema, visit);
  }
}

/**
 * zod's `.int()` accepts only safe integers (±(2^53 − 1)), the bounds `z.toJSONSchema` states, but
 * zod-to-openapi leaves them out. Every integer without a bound gets that one (integers typed by hand,
 * `.openapi({ type: 'integer' })` over a digit string, state their own), and every integer a format:
 * int32 when its bounds fit, int64 otherwise.
 */
function boundIntegers(doc: Document) {
  eachDocumentSchema(doc, (s) => {
    const type = s.type;
    if (!(type === 'integer' || (Array.isArray(type) && type.includes('integer')))) return;
    if (s.minimum === undefined && s.exclusiveMinimum === undefined) s.minimum = SAFE_INTEGER.minimum;
    if (s.maximum === undefined && s.exclusiveMaximum === undefined) s.maximum = SAFE_INTEGER.maximum;
    const low = Number(s.minimum ?? s.exclusiveMinimum);
    const high = Number(s.maximum ?? s.exclusiveMaximum);
    s.format ??= low >= INT32.minimum && high <= INT32.maximum ? 'int32' : 'int64';
  });
}

/** The OpenAPI document of an app: its route contracts, plus what its middleware adds to them. */
export function openApiDocumentOf(app: AppOpenAPI): Document {
  const doc = app.getOpenAPI31Document(openApiConfig);
  declareRateLimits(doc);
  boundIntegers(doc);
  return doc;
}

export function registerOpenApi(app: AppOpenAPI) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'An ES256 access token (typ at+jwt) signed by this deployment’s keys: an integrator token from POST /v1/oauth/token, or a user token minted with `houfu token` (no identity-provider login is built yet). Tokens are verified following RFC8725 (JWT Best Current Practices): the algorithm is pinned to ES256, the explicit type at+jwt (RFC 9068), issuer, audience, subject, exp and iat are required, and a maximum token age applies.',
  });
  for (const [name, header] of Object.entries(headers)) {
    app.openAPIRegistry.registerComponent('headers', name, header);
  }
  app.get('/openapi.json', (c) => c.json(openApiDocumentOf(app)));
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
