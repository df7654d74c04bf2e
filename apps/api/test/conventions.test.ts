/**
 * Cross-cutting conventions: problem+json, body limits, validation naming the field, server-owned
 * fields, pagination bounds, request ids, caching, health, the OpenAPI document, the offline docs
 * page, the public JWKS and the per-caller rate limit.
 */
import { permissions } from '@houfu/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../src/index.js';
import { createTestApp, fields, makeTownship, problem, type TestApp } from './helpers.js';

let t: TestApp;
let operator: string;

beforeAll(async () => {
  t = await createTestApp();
  operator = await t.token(420581, ['county_operator']);
});
afterAll(() => t.close());

describe('problem+json', () => {
  it('an unknown route (with a valid token) → 404 problem+json', async () => {
    const res = await t.call('GET', '/v1/no-such-thing', { token: operator });
    expect(res.status).toBe(404);
    const body = await problem(res);
    expect(body.code).toBe('not_found');
    expect(body.type).toMatch(/not_found$/);
    expect(body.title).toBeTruthy();
    expect(body.detail).toBeTruthy();
    expect((body as { instance?: string }).instance).toBe('/v1/no-such-thing');
  });

  it('an unknown route outside /v1 → 404 problem+json without a token', async () => {
    const res = await t.call('GET', '/nothing-here');
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe('not_found');
  });
});

describe('body limit (1 MiB)', () => {
  const oversized = () => JSON.stringify({ code: 420581100001, name: 'x'.repeat(BODY_LIMIT_BYTES + 10) });

  it('a JSON body over 1 MiB with Content-Length → 413 payload_too_large', async () => {
    expect(BODY_LIMIT_BYTES).toBe(1024 * 1024);
    const body = oversized();
    const res = await t.call('POST', '/v1/localities', {
      token: operator,
      body,
      headers: { 'content-length': String(Buffer.byteLength(body)) },
    });
    expect(res.status).toBe(413);
    expect((await problem(res)).code).toBe('payload_too_large');
  });

  it('the same body chunked, without Content-Length → 413', async () => {
    const bytes = new TextEncoder().encode(oversized());
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
        controller.close();
      },
    });
    const request = new Request('http://localhost/v1/localities', {
      method: 'POST',
      body: stream,
      duplex: 'half',
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
    } as RequestInit);
    expect(request.headers.get('content-length')).toBeNull();
    const res = await t.app.request(request);
    expect(res.status).toBe(413);
    expect((await problem(res)).code).toBe('payload_too_large');
  });

  it('the unauthenticated token route has the same limit', async () => {
    const body = `grant_type=client_credentials&client_secret=${'x'.repeat(BODY_LIMIT_BYTES + 10)}`;
    const res = await t.call('POST', '/v1/oauth/token', {
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(Buffer.byteLength(body)),
      },
    });
    expect(res.status).toBe(413);
    expect((await problem(res)).code).toBe('payload_too_large');
  });
});

describe('validation names the field', () => {
  let township: number;

  beforeAll(async () => {
    township = (await makeTownship(t.db, 420581, 0)).township.code;
  });

  it('values the database cannot hold → 400, never a 500', async () => {
    const nul = await t.call('POST', '/v1/localities', {
      token: operator,
      body: { code: township + 301, name: '村\u0000' },
    });
    expect(nul.status).toBe(400);
    expect((await problem(nul)).errors?.map((e) => e.field)).toContain('name');
    const lone = await t.call('POST', '/v1/localities', {
      token: operator,
      body: `{"code": ${township + 302}, "name": "\\ud800村"}`,
    });
    expect(lone.status).toBe(400);
    for (const path of [
      '/v1/divisions?q=%00',
      '/v1/audit-events?entity_id=%00',
      '/v1/audit-events?to=0000-01-01T00:00:00Z',
      `/v1/divisions?cursor=${Buffer.from('3000000000').toString('base64url')}`,
    ]) {
      const token = path.includes('audit') ? await t.token(420581, ['county_approver']) : operator;
      const res = await t.call('GET', path, { token });
      expect(res.status, path).toBe(400);
      expect((await problem(res)).code).toBe('validation_failed');
    }
  });

  it('malformed JSON → 400 problem, never a 500', async () => {
    for (const body of ['{bad', '{"code": 1,', '']) {
      const res = await t.call('POST', '/v1/localities', { token: operator, body });
      expect(res.status).toBe(400);
      const p = await problem(res);
      expect(['bad_request', 'validation_failed']).toContain(p.code);
      expect(JSON.stringify(p)).not.toMatch(/at .*\.(ts|js):\d+/);
    }
  });

  it('JSON that is not an object (null, array, string, number) → 400', async () => {
    for (const body of ['null', '[]', '"x"', '42']) {
      const res = await t.call('POST', '/v1/localities', { token: operator, body });
      expect(res.status).toBe(400);
      expect((await problem(res)).code).toBe('validation_failed');
    }
  });

  it('a wrong type → 400 validation_failed naming the field', async () => {
    const res = await t.call('POST', '/v1/localities', {
      token: operator,
      body: { code: String(township + 1), name: '新村' },
    });
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.code).toBe('validation_failed');
    expect(fields(body)).toContain('code');

    const name = await t.call('POST', '/v1/localities', {
      token: operator,
      body: { code: township + 1, name: 42 },
    });
    expect(name.status).toBe(400);
    expect(fields(await problem(name))).toContain('name');

    const query = await t.call('GET', '/v1/localities?county=abc', { token: operator });
    expect(query.status).toBe(400);
    expect(fields(await problem(query))).toContain('query.county');
  });

  it('an unknown body field → 400 naming it', async () => {
    const res = await t.call('POST', '/v1/localities', {
      token: operator,
      body: { code: township + 2, name: '新村', nickname: '小村' },
    });
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.code).toBe('validation_failed');
    expect(fields(body).join(',')).toContain('nickname');
  });

  it('server-owned fields on create → 400 naming the field, and nothing is created', async () => {
    const owned: Record<string, unknown> = {
      division_code: 420582,
      version: 7,
      source: 'dictionary',
      level: 'township',
      active: false,
    };
    let n = 10;
    for (const [field, value] of Object.entries(owned)) {
      n += 1;
      const code = township + n;
      const res = await t.call('POST', '/v1/localities', {
        token: operator,
        body: { code, name: '越权村', [field]: value },
      });
      expect(res.status, field).toBe(400);
      const body = await problem(res);
      expect(body.code).toBe('validation_failed');
      expect(fields(body).join(','), field).toContain(field);
      const after = await t.call('GET', `/v1/localities/${code}`, { token: operator });
      expect(after.status, field).toBe(404);
    }
  });

  it('server-owned fields on update → 400 naming the field, and the row is unchanged', async () => {
    for (const field of ['version', 'division_code', 'code', 'source']) {
      const res = await t.call('PATCH', `/v1/localities/${township}`, {
        token: operator,
        body: { name: '改名镇', [field]: 99 },
        headers: { 'if-match': '"v1"' },
      });
      expect(res.status, field).toBe(400);
      expect(fields(await problem(res)).join(','), field).toContain(field);
    }
    const row = await t.call('GET', `/v1/localities/${township}`, { token: operator });
    expect(row.headers.get('etag')).toBe('"v1"');
  });

  it('limit above 200, zero, negative or not a number → 400 naming query.limit', async () => {
    for (const path of ['/v1/localities', '/v1/divisions', '/v1/audit-events']) {
      const token = path === '/v1/audit-events' ? await t.token(420581, ['county_approver']) : operator;
      for (const limit of ['201', '0', '-1', 'ten', '1.5']) {
        const res = await t.call('GET', `${path}?limit=${limit}`, { token });
        expect(res.status, `${path} limit=${limit}`).toBe(400);
        expect(fields(await problem(res))).toContain('query.limit');
      }
      expect((await t.call('GET', `${path}?limit=200`, { token })).status).toBe(200);
    }
  });

  it('a tampered cursor → 400 naming query.cursor', async () => {
    const first = await t.call('GET', '/v1/divisions?level=province&limit=2', { token: operator });
    const { next_cursor } = (await first.json()) as { next_cursor: string };
    expect(next_cursor).toBeTruthy();
    const forged = Buffer.from(JSON.stringify({ $gt: 0 })).toString('base64url');
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const cursor of [
      `x${next_cursor}`,
      'not-base64!!',
      forged,
      b64('"1; DROP"'),
      b64('12.5'),
      b64('[1,2]'),
    ]) {
      const res = await t.call(
        'GET',
        `/v1/divisions?level=province&limit=2&cursor=${encodeURIComponent(cursor)}`,
        {
          token: operator,
        },
      );
      expect(res.status, cursor).toBe(400);
      expect(fields(await problem(res))).toContain('query.cursor');
    }
    const loc = await t.call('GET', `/v1/localities?cursor=${forged}`, { token: operator });
    expect(loc.status).toBe(400);
    expect(fields(await problem(loc))).toContain('query.cursor');
    // A cursor of another list (a division code) is not a localities cursor.
    const foreign = await t.call('GET', `/v1/localities?cursor=${next_cursor}`, { token: operator });
    expect(foreign.status).toBe(400);
    expect(fields(await problem(foreign))).toContain('query.cursor');
  });
});

describe('headers', () => {
  it('successful responses carry an x-request-id; a valid incoming one is echoed, an invalid one replaced', async () => {
    const responses = [
      await t.call('GET', '/healthz'),
      await t.call('GET', '/v1/me', { token: operator }),
      await t.call('GET', '/openapi.json'),
    ];
    const ids = responses.map((r) => r.headers.get('x-request-id') ?? '');
    for (const id of ids) expect(id).toMatch(/^[\w=-]{8,255}$/);
    expect(new Set(ids).size).toBe(ids.length);

    const mine = 'trace-0123456789abcdef';
    const echoed = await t.call('GET', '/v1/me', { token: operator, headers: { 'x-request-id': mine } });
    expect(echoed.headers.get('x-request-id')).toBe(mine);
    const failed = await t.call('GET', '/v1/localities?limit=0', {
      token: operator,
      headers: { 'x-request-id': mine },
    });
    expect((await problem(failed)).requestId).toBe(mine);

    const replaced = await t.call('GET', '/v1/me', {
      token: operator,
      headers: { 'x-request-id': 'has spaces <and> tags' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[\w=-]+$/);
    const tooLong = await t.call('GET', '/v1/me', {
      token: operator,
      headers: { 'x-request-id': 'a'.repeat(300) },
    });
    expect(tooLong.headers.get('x-request-id')).toMatch(/^[\w=-]{8,255}$/);
  });

  it('error responses carry the x-request-id header too, equal to the problem’s requestId', async () => {
    const responses = [
      await t.call('GET', '/v1/me'),
      await t.call('GET', '/v1/nope', { token: operator }),
      await t.call('GET', '/nope'),
      await t.call('GET', '/v1/localities?limit=0', { token: operator }),
      await t.call('GET', '/v1/localities/420581999999', { token: operator }),
      await t.call('POST', '/v1/localities', { token: operator, body: '{bad' }),
    ];
    const missing: number[] = [];
    for (const res of responses) {
      const body = await problem(res);
      if (res.headers.get('x-request-id') !== body.requestId) missing.push(res.status);
    }
    expect(missing, 'statuses whose x-request-id header is missing or differs from the body').toEqual([]);
  });

  it('cache-control: no-store on /v1 responses (success and error)', async () => {
    for (const res of [
      await t.call('GET', '/v1/me', { token: operator }),
      await t.call('GET', '/v1/divisions?parent=420500', { token: operator }),
      await t.call('GET', '/v1/me'),
      await t.call('GET', '/v1/localities/420581999999', { token: operator }),
      await t.call('GET', '/v1/localities?limit=0', { token: operator }),
    ]) {
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('security headers are set', async () => {
    const res = await t.call('GET', '/v1/me', { token: operator });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBeTruthy();
  });
});

describe('public endpoints', () => {
  it('GET /healthz → 200 {status: ok} without a token', async () => {
    const res = await t.call('GET', '/healthz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; database: string };
    expect(body.status).toBe('ok');
    expect(body.database).toBe('ok');
  });

  it('GET /.well-known/jwks.json publishes public keys only', async () => {
    const res = await t.call('GET', '/.well-known/jwks.json');
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      expect(k).not.toHaveProperty('d');
      expect(k.kty).toBe('EC');
      expect(k.kid).toBeTruthy();
    }
    expect(keys.map((k) => k.kid)).toContain(t.keys.activeKid);
  });

  it('GET /docs → HTML that references only local assets, which answer with JS/CSS types', async () => {
    const res = await t.call('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const refs = [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const ref of refs) {
      expect(ref).not.toMatch(/^(https?:)?\/\//i);
      expect(ref.startsWith('/')).toBe(true);
    }
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']https?:/i);
    for (const ref of refs) {
      const asset = await t.call('GET', ref);
      expect(asset.status, ref).toBe(200);
      expect(asset.headers.get('content-type'), ref).toMatch(
        ref.endsWith('.css') ? /^text\/css/ : /^(text|application)\/javascript/,
      );
      expect((await asset.text()).length, ref).toBeGreaterThan(0);
    }
    const init = await (await t.call('GET', '/docs/init.js')).text();
    expect(init).toContain('/openapi.json');
    expect(init).not.toMatch(/https?:\/\//);
    expect((await t.call('GET', '/docs/assets/..%2F..%2Fpackage.json')).status).toBe(404);
    expect((await t.call('GET', '/docs/assets/unknown.js')).status).toBe(404);
  });
});

describe('GET /openapi.json', () => {
  interface Operation {
    operationId?: string;
    summary?: string;
    description?: string;
    tags?: string[];
    security?: unknown[];
    'x-permission'?: string;
    responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
    requestBody?: { content: Record<string, { schema: unknown }> };
  }
  interface Doc {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: {
      schemas: Record<string, { properties?: Record<string, { example?: unknown }> }>;
      securitySchemes: Record<string, { type: string; scheme: string }>;
      headers: Record<string, unknown>;
    };
  }
  let doc: Doc;
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );

  beforeAll(async () => {
    const res = await t.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
  });

  it('is OpenAPI 3.1 with the routes of the app', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const ids = operations().map((o) => o.op.operationId);
    for (const id of [
      'issueToken',
      'getMe',
      'listDivisions',
      'getDivision',
      'listLocalities',
      'getLocality',
      'createLocality',
      'updateLocality',
      'listAuditEvents',
      'verifyAuditChains',
    ]) {
      expect(ids).toContain(id);
    }
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('every operation has a unique operationId, a summary, a description and tags', () => {
    const ids = new Set<string>();
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.operationId, where).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(ids.has(op.operationId as string), `${where} duplicate operationId`).toBe(false);
      ids.add(op.operationId as string);
      expect(op.summary?.length, where).toBeGreaterThan(0);
      expect(op.description?.length, where).toBeGreaterThan(0);
      expect(op.tags?.length, where).toBeGreaterThan(0);
    }
  });

  it('every operation documents a 4xx/5xx error as application/problem+json', () => {
    const missing = operations()
      .filter(
        ({ op }) =>
          !Object.entries(op.responses).some(
            ([status, r]) => /^[45]/.test(status) && r.content?.['application/problem+json'] !== undefined,
          ),
      )
      .map(({ path, method, op }) => `${op.operationId} (${method.toUpperCase()} ${path})`);
    expect(missing).toEqual([]);
  });

  it('every /v1 operation except issueToken has security and an x-permission', () => {
    const known = ['authenticated', ...permissions];
    for (const { path, method, op } of operations()) {
      if (!path.startsWith('/v1/') || op.operationId === 'issueToken') continue;
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.security, where).toEqual([{ bearerAuth: [] }]);
      expect(known, where).toContain(op['x-permission']);
      expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(['401', '403']));
    }
    const issue = operations().find((o) => o.op.operationId === 'issueToken');
    expect(issue?.op.security ?? []).toEqual([]);
  });

  it('responses counted by the rate limit declare its headers; every 429 declares Retry-After', () => {
    const budget = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];
    expect(Object.keys(doc.components.headers)).toEqual(expect.arrayContaining([...budget, 'Retry-After']));
    for (const { path, method, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        const where = `${method.toUpperCase()} ${path} ${status}`;
        const declared = Object.keys(response.headers ?? {});
        const counted = (op.security?.length ?? 0) > 0 && /^[24]/.test(status) && status !== '401';
        if (counted || status === '429') expect(declared, where).toEqual(expect.arrayContaining(budget));
        else
          expect(
            declared.filter((h) => budget.includes(h)),
            where,
          ).toEqual([]);
        if (status === '429') expect(declared, where).toContain('Retry-After');
      }
    }
  });

  it('writes need localities:write; reads need a read permission', () => {
    const perm = (id: string) => operations().find((o) => o.op.operationId === id)?.op['x-permission'];
    expect(perm('createLocality')).toBe('localities:write');
    expect(perm('updateLocality')).toBe('localities:write');
    expect(perm('getLocality')).toBe('localities:read');
    expect(perm('listAuditEvents')).toBe('audit:read');
    expect(perm('verifyAuditChains')).toBe('audit:verify');
    expect(perm('listDivisions')).toBe('divisions:read');
    expect(perm('getMe')).toBe('authenticated');
  });

  it('components carry Problem and Locality schemas with properties and examples', () => {
    const { Problem, Locality, CreateLocality } = doc.components.schemas;
    expect(Object.keys(Problem?.properties ?? {})).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'code', 'detail', 'requestId', 'errors']),
    );
    expect(Object.keys(Locality?.properties ?? {})).toEqual(
      expect.arrayContaining(['code', 'county_code', 'level', 'township_code', 'name', 'version']),
    );
    expect(Locality?.properties?.code?.example).toBeDefined();
    expect(CreateLocality?.properties?.name?.example).toBeDefined();
    const withExamples = Object.values(doc.components.schemas).filter((s) =>
      Object.values(s.properties ?? {}).some((p) => p.example !== undefined),
    );
    expect(withExamples.length).toBeGreaterThanOrEqual(5);
    const create = operations().find((o) => o.op.operationId === 'createLocality');
    expect(create?.op.requestBody?.content['application/json']).toBeDefined();
  });
});

describe('rate limit', () => {
  let limited: TestApp;

  beforeAll(async () => {
    limited = await createTestApp({ config: { HOUFU_RATE_LIMIT_PER_MINUTE: 3 } });
  });
  afterAll(() => limited.close());

  const budget = (res: Response) => ({
    limit: res.headers.get('ratelimit-limit'),
    remaining: res.headers.get('ratelimit-remaining'),
    reset: Number(res.headers.get('ratelimit-reset')),
  });

  it('the 4th request in a minute from one caller → 429 with Retry-After; another caller is unaffected', async () => {
    const mine = await limited.token(420581, ['county_operator'], 'user:rate-a');
    for (const remaining of ['2', '1', '0']) {
      const ok = await limited.call('GET', '/v1/me', { token: mine });
      expect(ok.status).toBe(200);
      expect(budget(ok)).toMatchObject({ limit: '3', remaining });
      expect(budget(ok).reset).toBeGreaterThanOrEqual(1);
      expect(budget(ok).reset).toBeLessThanOrEqual(60);
    }
    const res = await limited.call('GET', '/v1/me', { token: mine });
    expect(res.status).toBe(429);
    expect((await problem(res)).code).toBe('rate_limited');
    const retry = Number(res.headers.get('retry-after'));
    expect(Number.isInteger(retry)).toBe(true);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(budget(res)).toEqual({ limit: '3', remaining: '0', reset: retry });

    const other = await limited.token(420581, ['county_operator'], 'user:rate-b');
    expect((await limited.call('GET', '/v1/me', { token: other })).status).toBe(200);
    const elsewhere = await limited.token(420582, ['county_operator'], 'user:rate-a');
    expect((await limited.call('GET', '/v1/me', { token: elsewhere })).status).toBe(200);
    // Still limited, on every route.
    expect((await limited.call('GET', '/v1/divisions', { token: mine })).status).toBe(429);
  });

  it('errors after the count carry the budget (400, 403, 404); a 401, refused before it, does not', async () => {
    const mine = await limited.token(420581, ['county_operator'], 'user:rate-c');
    const invalid = await limited.call('GET', '/v1/divisions?limit=0', { token: mine });
    expect(invalid.status).toBe(400);
    expect(budget(invalid)).toMatchObject({ limit: '3', remaining: '2' });
    const forbidden = await limited.call('GET', '/v1/audit-events/verification', { token: mine });
    expect(forbidden.status).toBe(403);
    expect(budget(forbidden)).toMatchObject({ limit: '3', remaining: '1' });
    const missing = await limited.call('GET', '/v1/no-such-thing', { token: mine });
    expect(missing.status).toBe(404);
    expect(budget(missing)).toMatchObject({ limit: '3', remaining: '0' });

    const anonymous = await limited.call('GET', '/v1/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('ratelimit-limit')).toBeNull();
  });
});

describe('OpenAPI component names', () => {
  it('no two schemas register the same component name (a later one would silently replace the first)', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const root = new URL('../src/routes/', import.meta.url);
    const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const seen = new Map<string, string>();
    const duplicates: string[] = [];
    for (const file of files) {
      const source = await readFile(new URL(file, root), 'utf8');
      for (const [, name] of source.matchAll(/\.openapi\(\s*'([A-Za-z0-9]+)'/g)) {
        const first = seen.get(name as string);
        if (first) duplicates.push(`${name} in ${first} and ${file}`);
        else seen.set(name as string, file);
      }
    }
    expect(seen.size).toBeGreaterThan(50);
    expect(duplicates).toEqual([]);
  });
});
