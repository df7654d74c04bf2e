import { createApiClient, signClientToken } from '@houfu/api';
import { createTestApp, makeTownship, type TestApp, tokenSettings } from '@houfu/api/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { STALE_MESSAGE, staleFiles } from '../scripts/codegen.js';
import {
  createHoufuClient,
  type Division,
  type FetchLike,
  HoufuApiError,
  type HoufuClientOptions,
  type Locality,
  type Me,
  parseRetryAfter,
  unwrap,
} from '../src/index.js';

/** 宜都市, a county of 宜昌市 (420500) in 湖北省. */
const COUNTY = 420581;
const CITY = 420500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t?.close();
});

interface Sent {
  method: string;
  path: string;
  search: string;
  idempotencyKey: string | null;
  authorization: string | null;
  contentType: string | null;
}

/**
 * The app's in-process fetch, recording every request the SDK sends. `intercept` may answer an
 * attempt itself (it gets the request and a function that forwards it to the app).
 */
function inProcess(
  app: TestApp['app'],
  intercept?: (
    request: Request,
    forward: (r: Request) => Promise<Response>,
    index: number,
  ) => Promise<Response | undefined>,
) {
  const sent: Sent[] = [];
  const forward = async (r: Request) => app.fetch(r);
  const fetch: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    sent.push({
      method: request.method,
      path: url.pathname,
      search: url.search,
      idempotencyKey: request.headers.get('idempotency-key'),
      authorization: request.headers.get('authorization'),
      contentType: request.headers.get('content-type'),
    });
    return (await intercept?.(request, forward, sent.length - 1)) ?? forward(request);
  };
  return { fetch, sent };
}

function problemResponse(status: number, code: string, headers: Record<string, string> = {}) {
  return new Response(
    JSON.stringify({
      type: `https://houfu.dev/problems/${code}`,
      title: code,
      status,
      code,
      detail: `synthetic ${code}`,
      requestId: 'synthetic',
    }),
    { status, headers: { 'content-type': 'application/problem+json', ...headers } },
  );
}

async function sdk(options: HoufuClientOptions & { fetch: FetchLike }) {
  return createHoufuClient({ baseUrl: 'http://houfu.test', retry: { baseDelayMs: 5 }, ...options });
}

async function operator() {
  return t.token(COUNTY, ['county_operator'], `user:sdk-operator-${COUNTY}`);
}

async function caught(promise: Promise<unknown>): Promise<HoufuApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HoufuApiError) return error;
    throw error;
  }
  throw new Error('expected a HoufuApiError');
}

describe('user tokens and typed calls', () => {
  it('getMe with a user token keeps openapi-fetch’s { data, error, response }', async () => {
    const { fetch, sent } = inProcess(t.app);
    const houfu = await sdk({ fetch, token: await operator() });
    const { data, error, response } = await houfu.GET('/v1/me');
    expect(error).toBeUndefined();
    expect(response.status).toBe(200);
    const me: Me = data!;
    expect(me.division.code).toBe(COUNTY);
    expect(me.kind).toBe('user');
    expect(me.permissions).toContain('localities:write');
    expect(sent[0]?.authorization).toMatch(/^Bearer /);
    expect(sent[0]?.idempotencyKey).toBeNull();
  });

  it('takes the token from a function, called per request', async () => {
    const { fetch } = inProcess(t.app);
    const token = vi.fn(async () => operator());
    const houfu = await sdk({ fetch, token });
    expect(unwrap(await houfu.GET('/v1/me')).sub).toBe(`user:sdk-operator-${COUNTY}`);
    expect(houfu.unwrap(await houfu.GET('/v1/me')).division.code).toBe(COUNTY);
    expect(token).toHaveBeenCalledTimes(2);
  });

  it('lists divisions, typed', async () => {
    const { fetch, sent } = inProcess(t.app);
    const houfu = await sdk({ fetch, token: await operator() });
    const page = unwrap(
      await houfu.GET('/v1/divisions', { params: { query: { parent: CITY, limit: 200 } } }),
    );
    const divisions: Division[] = page.data;
    const yidu = divisions.find((d) => d.code === COUNTY);
    expect(yidu).toMatchObject({ code: COUNTY, level: 'county', parent_code: CITY });
    expect(divisions.every((d) => d.parent_code === CITY)).toBe(true);
    expect(sent[0]?.search).toContain(`parent=${CITY}`);
  });

  it('without a token surfaces 401 unauthorized as an error result, not retried', async () => {
    const { fetch, sent } = inProcess(t.app);
    const houfu = await sdk({ fetch });
    const result = await houfu.GET('/v1/me');
    expect(result.response.status).toBe(401);
    expect(result.error?.code).toBe('unauthorized');
    const error = await caught(Promise.resolve().then(() => unwrap(result)));
    expect(error.code).toBe('unauthorized');
    expect(error.requestId).toBeTruthy();
    expect(sent).toHaveLength(1);
  });
});

describe('pagination', () => {
  it('follows next_cursor over a township’s villages', async () => {
    const { township, villages } = await makeTownship(t.db, COUNTY, 5);
    const { fetch, sent } = inProcess(t.app);
    const houfu = await sdk({ fetch, token: await operator() });
    const seen: Locality[] = [];
    for await (const l of houfu.paginate('/v1/localities', {
      params: { query: { township: township.code, level: 'village', limit: 2 } },
    })) {
      seen.push(l);
    }
    const codes = seen.map((l) => l.code);
    expect(codes).toEqual(villages.map((v) => v.code).sort((a, b) => a - b));
    expect(new Set(codes).size).toBe(5);
    expect(seen.every((l) => l.level === 'village' && l.township_code === township.code)).toBe(true);
    // 2 + 2 + 1: three pages, the last with next_cursor null.
    expect(sent.map((s) => s.method)).toEqual(['GET', 'GET', 'GET']);
    expect(sent[0]?.search).not.toContain('cursor=');
    expect(sent[1]?.search).toContain('cursor=');

    const viaIterate: number[] = [];
    for await (const l of houfu.iterate('/v1/localities', {
      params: { query: { township: township.code } },
    })) {
      viaIterate.push(l.code);
    }
    expect(viaIterate).toEqual([township.code, ...codes]);
  });

  it('throws HoufuApiError when a page fails', async () => {
    const { fetch } = inProcess(t.app);
    const houfu = await sdk({ fetch, token: await operator() });
    const error = await caught(
      (async () => {
        for await (const _ of houfu.paginate('/v1/localities', {
          params: { query: { cursor: 'nonsense' } },
        })) {
          // nothing
        }
      })(),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(error.errors.map((e) => e.field)).toContain('query.cursor');
  });

  it('is typed from the paths: only paginated GETs are accepted', () => {
    const houfu = createHoufuClient({ fetch: async () => new Response('{}') });
    // @ts-expect-error /v1/me is not a list
    expect(() => houfu.paginate('/v1/me')).not.toThrow();
  });
});

describe('idempotency and retries', () => {
  it('a POST whose response was lost is retried with the same key and replayed, never duplicated', async () => {
    const { township } = await makeTownship(t.db, COUNTY, 0);
    const code = township.code + 7;
    let firstStatus: number | undefined;
    const { fetch, sent } = inProcess(t.app, async (request, forward, index) => {
      if (request.method === 'POST' && index === 0) {
        // The app does the work and commits, but the answer never reaches the SDK.
        const lost = await forward(request);
        firstStatus = lost.status;
        await lost.body?.cancel();
        return problemResponse(503, 'service_unavailable', { 'retry-after': '0' });
      }
      return undefined;
    });
    const houfu = await sdk({ fetch, token: await operator() });

    const { data, response } = await houfu.POST('/v1/localities', { body: { code, name: '移民新村' } });
    expect(firstStatus).toBe(201);
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(response.headers.get('etag')).toBe('"v1"');
    expect(data).toMatchObject({ code, name: '移民新村', level: 'village', version: 1 });

    const posts = sent.filter((s) => s.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[0]?.idempotencyKey).toMatch(UUID);
    expect(posts[1]?.idempotencyKey).toBe(posts[0]?.idempotencyKey);

    // Exactly one row, exactly one audit event.
    const reader = await sdk({
      fetch: inProcess(t.app).fetch,
      token: await t.token(COUNTY, ['county_approver']),
    });
    const events = unwrap(
      await reader.GET('/v1/audit-events', {
        params: { query: { entity_type: 'locality', entity_id: String(code) } },
      }),
    );
    expect(events.data.map((e) => e.action)).toEqual(['locality.create']);
    const rows = unwrap(
      await reader.GET('/v1/localities', { params: { query: { township: township.code } } }),
    );
    expect(rows.data.filter((l) => l.code === code)).toHaveLength(1);
  });

  it('each logical POST gets its own key; a caller’s key is kept', async () => {
    const { township } = await makeTownship(t.db, COUNTY, 0);
    const { fetch, sent } = inProcess(t.app);
    const houfu = await sdk({ fetch, token: await operator() });
    const mine = `sdk-test-${globalThis.crypto.randomUUID()}`;
    const a = await houfu.POST('/v1/localities', {
      params: { header: { 'idempotency-key': mine } },
      body: { code: township.code + 1, name: '一村' },
    });
    const b = await houfu.POST('/v1/localities', { body: { code: township.code + 2, name: '二村' } });
    expect([a.response.status, b.response.status]).toEqual([201, 201]);
    expect(sent[0]?.idempotencyKey).toBe(mine);
    expect(sent[1]?.idempotencyKey).toMatch(UUID);
    // The same key again with the same body replays; with another body it is a 422.
    const replay = await houfu.POST('/v1/localities', {
      params: { header: { 'idempotency-key': mine } },
      body: { code: township.code + 1, name: '一村' },
    });
    expect(replay.response.headers.get('idempotent-replayed')).toBe('true');
    const reused = await houfu.POST('/v1/localities', {
      params: { header: { 'idempotency-key': mine } },
      body: { code: township.code + 3, name: '三村' },
    });
    expect(reused.error?.code).toBe('idempotency_key_reused');
  });

  it('a 429 is retried after Retry-After', async () => {
    const { fetch, sent } = inProcess(t.app, async (_request, _forward, index) =>
      index === 0 ? problemResponse(429, 'rate_limited', { 'retry-after': '1' }) : undefined,
    );
    const houfu = createHoufuClient({ baseUrl: 'http://houfu.test', fetch, token: await operator() });
    const started = performance.now();
    const me = unwrap(await houfu.GET('/v1/me'));
    const waited = performance.now() - started;
    expect(me.division.code).toBe(COUNTY);
    expect(sent).toHaveLength(2);
    expect(waited).toBeGreaterThanOrEqual(950);
  });

  it('a 409 idempotency_in_progress to a keyed POST is retried with the same key; other 409s are not', async () => {
    const { township } = await makeTownship(t.db, COUNTY, 0);
    const { fetch, sent } = inProcess(t.app, async (request, _forward, index) =>
      index === 0 && request.method === 'POST'
        ? problemResponse(409, 'idempotency_in_progress', { 'retry-after': '0' })
        : undefined,
    );
    const houfu = createHoufuClient({ baseUrl: 'http://houfu.test', fetch, token: await operator() });
    const created = await houfu.POST('/v1/localities', {
      body: { code: township.code + 301, name: '重试村' },
    });
    expect(created.response.status).toBe(201);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.idempotencyKey).toBe(sent[0]?.idempotencyKey);
    // A real conflict (the code is taken) has no Retry-After: surfaced at once.
    const again = await houfu.POST('/v1/localities', { body: { code: township.code + 301, name: '重试村' } });
    expect(again.response.status).toBe(409);
    expect(sent).toHaveLength(3);
  });

  it('Retry-After is capped by maxDelayMs; retries run out and the last answer is returned', async () => {
    const { fetch, sent } = inProcess(t.app, async () =>
      problemResponse(503, 'service_unavailable', { 'retry-after': '120' }),
    );
    const houfu = createHoufuClient({
      baseUrl: 'http://houfu.test',
      fetch,
      token: await operator(),
      retry: { retries: 2, maxDelayMs: 20 },
    });
    const started = performance.now();
    const result = await houfu.GET('/v1/me');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result.response.status).toBe(503);
    expect(result.error?.code).toBe('service_unavailable');
    expect(sent).toHaveLength(3);
  });

  it('network errors are retried; retry: false sends once', async () => {
    const failing = inProcess(t.app, async (_request, _forward, index) => {
      if (index < 2) throw new TypeError('fetch failed');
      return undefined;
    });
    const houfu = await sdk({ fetch: failing.fetch, token: await operator() });
    expect(unwrap(await houfu.GET('/v1/me')).division.code).toBe(COUNTY);
    expect(failing.sent).toHaveLength(3);

    const once = inProcess(t.app, async () => {
      throw new TypeError('fetch failed');
    });
    const noRetry = await sdk({ fetch: once.fetch, token: await operator(), retry: false });
    await expect(noRetry.GET('/v1/me')).rejects.toThrow('fetch failed');
    expect(once.sent).toHaveLength(1);
  });

  it('a 400 is not retried and surfaces HoufuApiError with field errors', async () => {
    const { fetch, sent } = inProcess(t.app);
    const houfu = await sdk({ fetch, token: await operator() });
    const error = await caught(
      houfu.POST('/v1/localities', { body: { code: 123, name: '' } }).then((r) => unwrap(r)),
    );
    expect(error).toBeInstanceOf(HoufuApiError);
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(error.detail).toBeTruthy();
    expect(error.requestId).toBeTruthy();
    expect(error.errors.map((e) => e.field).sort()).toEqual(['code', 'name']);
    expect(sent).toHaveLength(1);
  });

  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-11-22T02:00:00Z');
    expect(parseRetryAfter('Sun, 22 Nov 2026 02:00:05 GMT', now)).toBe(5000);
  });
});

describe('the real rate limiter', () => {
  let limited: TestApp;
  let clock = Date.now();

  beforeAll(async () => {
    limited = await createTestApp({
      config: { HOUFU_RATE_LIMIT_PER_MINUTE: 2 },
      now: () => new Date(clock),
    });
  });

  afterAll(async () => {
    await limited?.close();
  });

  it('answers 429 rate_limited; the SDK waits (capped) and retries', async () => {
    const token = await limited.token(COUNTY, ['county_operator'], 'user:sdk-rate-limit');
    const strict = inProcess(limited.app);
    const noRetry = createHoufuClient({
      baseUrl: 'http://houfu.test',
      fetch: strict.fetch,
      token,
      retry: false,
    });
    unwrap(await noRetry.GET('/v1/me'));
    unwrap(await noRetry.GET('/v1/me'));
    const error = await caught(noRetry.GET('/v1/me').then((r) => unwrap(r)));
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limited');
    expect(Number(error.response?.headers.get('retry-after'))).toBeGreaterThan(0);

    // The window passes while the SDK waits.
    const patient = inProcess(limited.app, async (request, forward) => {
      const response = await forward(request);
      if (response.status === 429) clock += 61_000;
      return response;
    });
    const houfu = createHoufuClient({
      baseUrl: 'http://houfu.test',
      fetch: patient.fetch,
      token,
      retry: { maxDelayMs: 10 },
    });
    expect(unwrap(await houfu.GET('/v1/me')).sub).toBe('user:sdk-rate-limit');
    expect(patient.sent).toHaveLength(2);
  });
});

/**
 * The client-credentials flow, run against a token endpoint: the app's own (end to end) or a stand-in
 * that issues real client tokens the app accepts. Checks the form request, one token for several
 * calls, a new token after a 401 and ~30 s before expiry.
 */
async function exerciseClientCredentials(
  app: TestApp['app'],
  credentials: { clientId: string; secret: string },
  tokenEndpoint?: (request: Request) => Promise<Response>,
) {
  const { clientId, secret } = credentials;
  let refuse = false;
  const { fetch, sent } = inProcess(app, async (request) => {
    if (request.url.endsWith('/v1/oauth/token')) return tokenEndpoint?.(request);
    if (refuse) {
      refuse = false;
      return problemResponse(401, 'unauthorized');
    }
    return undefined;
  });
  const houfu = await sdk({ fetch, clientCredentials: { clientId, clientSecret: secret } });
  const tokenRequests = () => sent.filter((s) => s.path === '/v1/oauth/token');

  const me = unwrap(await houfu.GET('/v1/me'));
  expect(me.kind).toBe('client');
  expect(me.sub).toContain(clientId);
  const divisions = unwrap(await houfu.GET('/v1/divisions', { params: { query: { parent: CITY } } }));
  expect(divisions.data.some((d) => d.code === COUNTY)).toBe(true);
  await Promise.all([
    houfu.GET('/v1/divisions').then(unwrap),
    houfu.GET('/v1/divisions/{code}', { params: { path: { code: COUNTY } } }).then(unwrap),
  ]);
  expect(tokenRequests()).toHaveLength(1);
  expect(tokenRequests()[0]).toMatchObject({
    method: 'POST',
    contentType: 'application/x-www-form-urlencoded',
    authorization: null,
    idempotencyKey: null,
  });
  const first = await houfu.accessToken();

  // A refused token is dropped and fetched again, once.
  refuse = true;
  expect(unwrap(await houfu.GET('/v1/me')).kind).toBe('client');
  expect(tokenRequests()).toHaveLength(2);
  const second = await houfu.accessToken();
  expect(second).not.toBe(first);

  // ~30 s before expires_in (900 s) runs out, the next call fetches a new token.
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    vi.setSystemTime(Date.now() + 875_000);
    unwrap(await houfu.GET('/v1/divisions'));
    expect(tokenRequests()).toHaveLength(3);
    expect(await houfu.accessToken()).not.toBe(second);
  } finally {
    vi.useRealTimers();
  }
}

async function exerciseScopesAndBadSecret(
  app: TestApp['app'],
  credentials: { clientId: string; secret: string },
  tokenEndpoint?: (request: Request) => Promise<Response>,
) {
  const { clientId, secret } = credentials;
  const fetch = inProcess(app, async (request) =>
    request.url.endsWith('/v1/oauth/token') ? tokenEndpoint?.(request) : undefined,
  ).fetch;
  const narrow = await sdk({
    fetch,
    clientCredentials: { clientId, clientSecret: secret, scope: ['divisions:read'] },
  });
  expect(unwrap(await narrow.GET('/v1/me')).permissions).toEqual(['divisions:read']);
  const forbidden = await narrow.GET('/v1/localities');
  expect(forbidden.error?.code).toBe('forbidden');

  const wrong = await sdk({ fetch, clientCredentials: { clientId, clientSecret: 'not-the-secret' } });
  const error = await caught(wrong.GET('/v1/me'));
  expect(error.status).toBe(401);
  expect(error.code).toBe('invalid_client');
}

const SCOPES = ['divisions:read', 'localities:read'] as const;

async function newIntegrator(name: string) {
  return createApiClient(
    t.db,
    { sub: 'test:sdk', kind: 'system', division: COUNTY },
    { division: COUNTY, name, scopes: [...SCOPES] },
  );
}

/** Stands in for POST /v1/oauth/token (see the known API bug below): issues real client tokens. */
function standInTokenEndpoint(credentials: { clientId: string; secret: string }) {
  return async (request: Request): Promise<Response> => {
    if (request.headers.get('content-type') !== 'application/x-www-form-urlencoded') {
      return problemResponse(415, 'unsupported_media_type');
    }
    const form = new URLSearchParams(await request.text());
    if (form.get('grant_type') !== 'client_credentials') return problemResponse(400, 'validation_failed');
    if (form.get('client_id') !== credentials.clientId || form.get('client_secret') !== credentials.secret) {
      return problemResponse(401, 'invalid_client');
    }
    const requested = form.get('scope')?.split(' ') ?? [...SCOPES];
    const scopes = SCOPES.filter((s) => requested.includes(s));
    const accessToken = await signClientToken(t.keys, tokenSettings, {
      clientId: credentials.clientId,
      division: COUNTY,
      scopes,
      ttlSeconds: 900,
    });
    return Response.json({
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 900,
      scope: scopes.join(' '),
    });
  };
}

describe('client credentials (SDK token handling, stand-in token endpoint)', () => {
  it('fetches one integrator token for several calls, refreshes it on a 401 and before expiry', async () => {
    const credentials = await newIntegrator('SDK 测试接入方');
    await exerciseClientCredentials(t.app, credentials, standInTokenEndpoint(credentials));
  });

  it('requests the given scope; bad credentials surface invalid_client', async () => {
    const credentials = await newIntegrator('SDK 测试接入方 2');
    await exerciseScopesAndBadSecret(t.app, credentials, standInTokenEndpoint(credentials));
  });
});

describe('client credentials end to end (POST /v1/oauth/token of the app)', () => {
  it('createApiClient → SDK with clientCredentials → the API, one token for several calls', async () => {
    await exerciseClientCredentials(t.app, await newIntegrator('SDK 端到端接入方'));
  });

  it('scope and invalid_client end to end', async () => {
    await exerciseScopesAndBadSecret(t.app, await newIntegrator('SDK 端到端接入方 2'));
  });
});

describe('conditional updates', () => {
  it('If-Match with the ETag of a GET → 200; the stale ETag → 412 precondition_failed', async () => {
    const { villages } = await makeTownship(t.db, COUNTY, 1);
    const code = villages[0]!.code;
    const { fetch } = inProcess(t.app);
    const houfu = await sdk({ fetch, token: await operator() });

    const read = await houfu.GET('/v1/localities/{code}', { params: { path: { code } } });
    const etag = read.response.headers.get('etag')!;
    expect(etag).toBe('"v1"');

    const updated = await houfu.PATCH('/v1/localities/{code}', {
      params: { path: { code }, header: { 'if-match': etag } },
      body: { name: '白水港村' },
    });
    expect(updated.response.status).toBe(200);
    expect(updated.data).toMatchObject({ code, name: '白水港村', version: 2 });
    expect(updated.response.headers.get('etag')).toBe('"v2"');

    const error = await caught(
      houfu
        .PATCH('/v1/localities/{code}', {
          params: { path: { code }, header: { 'if-match': etag } },
          body: { active: false },
        })
        .then(unwrap),
    );
    expect(error.status).toBe(412);
    expect(error.code).toBe('precondition_failed');

    const missing = await houfu.PATCH('/v1/localities/{code}', {
      params: { path: { code } },
      body: { active: false },
    });
    expect(missing.error?.code).toBe('precondition_required');
  });
});

describe('generated files', () => {
  it('the committed openapi.json and src/schema.ts match the API (pnpm sdk:check)', async () => {
    const stale = await staleFiles();
    expect(stale, `${STALE_MESSAGE} (differs: ${stale.join(', ')})`).toEqual([]);
  });
});
