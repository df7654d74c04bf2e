/**
 * Authentication: the JWT negative suite of RELIABILITY.md (every forged, expired, misaddressed or
 * malformed token → 401 problem+json with a challenge) and the integrator client-credentials flow.
 */
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, revokeClient, signUserToken } from '../src/index.js';
import { createTestApp, problem, type TestApp, tokenSettings } from './helpers.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Valid user claims for a county operator of 宜都市; each case spoils one thing. */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const now = nowSeconds();
  const base: Record<string, unknown> = {
    iss: 'houfu',
    aud: 'houfu-api',
    sub: 'user:auth-test',
    iat: now,
    exp: now + 600,
    division: 420581,
    roles: ['county_operator'],
    ...overrides,
  };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return base as JWTPayload;
}

/** Signs with the app's own active key unless told otherwise. */
async function forge(
  payload: JWTPayload,
  header: Partial<JWTHeaderParameters> = {},
  key?: Parameters<SignJWT['sign']>[0],
): Promise<string> {
  const protectedHeader: JWTHeaderParameters = {
    alg: 'ES256',
    typ: 'at+jwt',
    kid: t.keys.activeKid,
    ...header,
  };
  for (const [k, v] of Object.entries(protectedHeader)) {
    if (v === undefined) delete (protectedHeader as Record<string, unknown>)[k];
  }
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(key ?? t.keys.signingKey);
}

async function expectUnauthorized(res: Response) {
  expect(res.status).toBe(401);
  const body = await problem(res);
  expect(body.code).toBe('unauthorized');
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="houfu"/);
  // Nothing about the verification internals leaks to the caller.
  expect(JSON.stringify(body)).not.toMatch(/ERR_JW|stack|at \w+ \(/);
  return body;
}

const me = (authorization?: string) =>
  t.call('GET', '/v1/me', { headers: authorization === undefined ? {} : { authorization } });

describe('bearer tokens', () => {
  it('a valid token opens GET /v1/me', async () => {
    const res = await t.call('GET', '/v1/me', { token: await t.token(420581, ['county_operator']) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sub: string; division: { code: number } };
    expect(body.sub).toBe('user:county_operator:420581');
    expect(body.division.code).toBe(420581);
  });

  it('the control token built by this suite’s forger is accepted (so each negative case spoils one thing)', async () => {
    const res = await me(`Bearer ${await forge(claims())}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sub: string }).sub).toBe('user:auth-test');
  });

  it('no Authorization header → 401', async () => {
    await expectUnauthorized(await me());
  });

  it('Basic scheme → 401', async () => {
    await expectUnauthorized(await me(`Basic ${Buffer.from('admin:admin').toString('base64')}`));
  });

  it('empty bearer and a token in the query string → 401', async () => {
    await expectUnauthorized(await me('Bearer '));
    const token = await t.token(420581, ['county_operator']);
    await expectUnauthorized(await t.call('GET', `/v1/me?access_token=${token}`));
  });

  it('garbage token → 401', async () => {
    await expectUnauthorized(await me('Bearer not-a-jwt'));
    await expectUnauthorized(await me('Bearer aaa.bbb.ccc'));
    await expectUnauthorized(await me('Bearer <script>alert(1)</script>'));
  });

  it('alg none (unsecured JWT) → 401', async () => {
    const unsecured = `${b64url({ alg: 'none', typ: 'at+jwt' })}.${b64url(claims())}.`;
    await expectUnauthorized(await me(`Bearer ${unsecured}`));
    const withKid = `${b64url({ alg: 'none', typ: 'at+jwt', kid: t.keys.activeKid })}.${b64url(claims())}.`;
    await expectUnauthorized(await me(`Bearer ${withKid}`));
  });

  it('HS256 signed with the public key bytes (JWK JSON or SPKI) → 401', async () => {
    const publicJwk = t.keys.publicJwks.keys[0] as JWK;
    expect(publicJwk.d).toBeUndefined();
    const jwkBytes = new TextEncoder().encode(JSON.stringify(publicJwk));
    await expectUnauthorized(await me(`Bearer ${await forge(claims(), { alg: 'HS256' }, jwkBytes)}`));
    const publicKey = await importJWK(publicJwk, 'ES256', { extractable: true });
    const spki = await exportSPKI(publicKey as Parameters<typeof exportSPKI>[0]);
    const spkiBytes = new TextEncoder().encode(spki);
    await expectUnauthorized(await me(`Bearer ${await forge(claims(), { alg: 'HS256' }, spkiBytes)}`));
    // The raw x‖y coordinates as a secret, too.
    const raw = Buffer.concat([
      Buffer.from(publicJwk.x as string, 'base64url'),
      Buffer.from(publicJwk.y as string, 'base64url'),
    ]);
    await expectUnauthorized(await me(`Bearer ${await forge(claims(), { alg: 'HS256' }, raw)}`));
  });

  it('expired beyond the 30 s tolerance → 401', async () => {
    const now = nowSeconds();
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ iat: now - 700, exp: now - 60 }))}`));
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ iat: now - 700, exp: now - 40 }))}`));
  });

  it('iat older than maxTokenAge (3600 s) → 401 even with a valid exp', async () => {
    const now = nowSeconds();
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ iat: now - 3700, exp: now + 600 }))}`));
  });

  it('iat in the future beyond the tolerance → 401', async () => {
    const now = nowSeconds();
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ iat: now + 600, exp: now + 1200 }))}`));
  });

  it('nbf in the future beyond 30 s → 401', async () => {
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ nbf: nowSeconds() + 120 }))}`));
  });

  it('wrong issuer → 401', async () => {
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ iss: 'evil' }))}`));
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ iss: undefined }))}`));
  });

  it('wrong audience → 401', async () => {
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ aud: 'other-api' }))}`));
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ aud: undefined }))}`));
  });

  it('wrong or missing typ → 401', async () => {
    await expectUnauthorized(await me(`Bearer ${await forge(claims(), { typ: 'JWT' })}`));
    await expectUnauthorized(await me(`Bearer ${await forge(claims(), { typ: undefined })}`));
  });

  it('missing exp → 401', async () => {
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ exp: undefined }))}`));
  });

  it('missing or empty sub → 401', async () => {
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ sub: undefined }))}`));
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ sub: '' }))}`));
  });

  it('missing iat → 401', async () => {
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ iat: undefined }))}`));
  });

  it('unknown kid → 401', async () => {
    await expectUnauthorized(await me(`Bearer ${await forge(claims(), { kid: 'no-such-key' })}`));
    await expectUnauthorized(await me(`Bearer ${await forge(claims(), { kid: `${t.keys.activeKid}x` })}`));
  });

  it('bad signature (one character flipped) → 401', async () => {
    const token = await forge(claims());
    const [h, p, s] = token.split('.') as [string, string, string];
    const i = Math.floor(s.length / 2);
    const flipped = `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
    await expectUnauthorized(await me(`Bearer ${h}.${p}.${flipped}`));
    // Claims changed under the original signature.
    const escalated = b64url({ ...claims(), division: 420000, roles: ['province_admin'] });
    await expectUnauthorized(await me(`Bearer ${h}.${escalated}.${s}`));
  });

  it('signed by another ES256 key that claims the same kid → 401', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    expect((await exportJWK(privateKey)).d).toBeTruthy();
    await expectUnauthorized(await me(`Bearer ${await forge(claims(), {}, privateKey)}`));
  });

  it('a role not allowed at the division level → 401', async () => {
    await expectUnauthorized(
      await me(`Bearer ${await forge(claims({ division: 420500, roles: ['county_operator'] }))}`),
    );
    await expectUnauthorized(
      await me(`Bearer ${await forge(claims({ division: 420581, roles: ['province_admin'] }))}`),
    );
    await expectUnauthorized(
      await me(`Bearer ${await forge(claims({ division: 420000, roles: ['national_admin'] }))}`),
    );
  });

  it('an unknown role, or no role at all → 401', async () => {
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ roles: ['superuser'] }))}`));
    await expectUnauthorized(
      await me(`Bearer ${await forge(claims({ roles: ['county_operator', 'root'] }))}`),
    );
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ roles: [] }))}`));
    await expectUnauthorized(await me(`Bearer ${await forge(claims({ roles: 'county_operator' }))}`));
  });

  it('a division claim that is not a division code → 401', async () => {
    for (const division of [123, 100000, 420005, 1_000_000, -420581, 420581.5, '420581', null]) {
      await expectUnauthorized(await me(`Bearer ${await forge(claims({ division }))}`));
    }
  });

  it('a division code that is not in the dictionary (999999) → 401', async () => {
    const token = await forge(claims({ division: 999999 }));
    await expectUnauthorized(await me(`Bearer ${token}`));
    await expectUnauthorized(await t.call('GET', '/v1/divisions', { token }));
  });
});

describe('verified-token cache', () => {
  it('a token accepted a moment ago is refused once it expires (the cache never extends a token)', async () => {
    let clock = Date.now();
    const timed = await createTestApp({ now: () => new Date(clock) });
    try {
      const token = await signUserToken(timed.keys, tokenSettings, {
        sub: 'user:cache',
        division: 420581,
        roles: ['county_operator'],
        ttlSeconds: 60,
      });
      expect((await timed.call('GET', '/v1/me', { token })).status).toBe(200);
      expect((await timed.call('GET', '/v1/me', { token })).status).toBe(200);
      clock += 95_000; // past exp and the 30 s clock tolerance
      const late = await timed.call('GET', '/v1/me', { token });
      expect(late.status).toBe(401);
      expect((await problem(late)).code).toBe('unauthorized');
    } finally {
      await timed.close();
    }
  });
});

describe('POST /v1/oauth/token (integrator client credentials)', () => {
  const system = { sub: 'test', kind: 'system' as const, division: 420000 };
  const newClient = () =>
    createApiClient(t.db, system, {
      division: 420000,
      name: '测试银行',
      scopes: ['divisions:read', 'audit:read'],
    });
  const form = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    t.call('POST', '/v1/oauth/token', {
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });

  interface TokenResponse {
    access_token: string;
    token_type: string;
    expires_in: number;
    scope: string;
  }

  it('throttles one client id before any database or hashing work → 429 with Retry-After', async () => {
    const id = 'hf_420000_ffffeeeeddddcccc'; // used by this test only
    const statuses: number[] = [];
    for (let i = 0; i < 31; i += 1) {
      statuses.push(
        (await form({ grant_type: 'client_credentials', client_id: id, client_secret: 'x' })).status,
      );
    }
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    const res = await form({ grant_type: 'client_credentials', client_id: id, client_secret: 'x' });
    expect(res.status).toBe(429);
    expect((await problem(res)).code).toBe('rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('HTTP Basic credentials that are not form-encoded → 401 invalid_client, never a 500', async () => {
    const res = await form(
      { grant_type: 'client_credentials' },
      { authorization: `Basic ${Buffer.from('hf_420000_%zz:%E0%A4%A').toString('base64')}` },
    );
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('invalid_client');
  });

  it('the lock is an audit record of its own (outcome failure)', async () => {
    const { clientId } = await newClient();
    for (let i = 0; i < 5; i += 1) {
      await form({ grant_type: 'client_credentials', client_id: clientId, client_secret: `bad${i}` });
    }
    const auditor = await t.token(420000, ['auditor']);
    const res = await t.call('GET', `/v1/audit-events?entity_id=${clientId}&action=api_client.lock`, {
      token: auditor,
    });
    const { data } = (await res.json()) as { data: { outcome: string; actor: { sub: string } }[] };
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({ outcome: 'failure', actor: { sub: `client:${clientId}` } });
  });

  it('a form-encoded grant answers a Bearer token that reads but cannot write', async () => {
    const { clientId, secret } = await newClient();
    expect(clientId).toMatch(/^hf_420000_[a-z0-9]+$/);
    const res = await form({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as TokenResponse;
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBeGreaterThan(0);
    expect(body.scope.split(' ').sort()).toEqual(['audit:read', 'divisions:read']);
    expect(JSON.stringify(body)).not.toContain(secret);

    const read = await t.call('GET', '/v1/divisions?parent=420500', { token: body.access_token });
    expect(read.status).toBe(200);
    const write = await t.call('PATCH', '/v1/localities/420581100001', {
      token: body.access_token,
      body: { name: '改名' },
      headers: { 'if-match': '"v1"' },
    });
    expect(write.status).toBe(403);
    expect((await problem(write)).code).toBe('forbidden');
  });

  it('HTTP Basic credentials work', async () => {
    const { clientId, secret } = await newClient();
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString(
      'base64',
    );
    const res = await form({ grant_type: 'client_credentials' }, { authorization: `Basic ${basic}` });
    expect(res.status).toBe(200);
    const body = (await res.json()) as TokenResponse;
    expect(body.token_type).toBe('Bearer');
    expect((await t.call('GET', '/v1/divisions/420581', { token: body.access_token })).status).toBe(200);
  });

  it('a JSON body works, and a narrower scope is honoured', async () => {
    const { clientId, secret } = await newClient();
    const res = await t.call('POST', '/v1/oauth/token', {
      body: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');

    const narrow = await t.call('POST', '/v1/oauth/token', {
      body: {
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
        scope: 'divisions:read',
      },
    });
    expect(narrow.status).toBe(200);
    const token = (await narrow.json()) as TokenResponse;
    expect(token.scope).toBe('divisions:read');
    expect((await t.call('GET', '/v1/divisions', { token: token.access_token })).status).toBe(200);
    const audit = await t.call('GET', '/v1/audit-events', { token: token.access_token });
    expect(audit.status).toBe(403);
  });

  it('a wrong secret → 401 invalid_client', async () => {
    const { clientId } = await newClient();
    const res = await form({ grant_type: 'client_credentials', client_id: clientId, client_secret: 'wrong' });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('invalid_client');
  });

  it('an unknown or malformed client id → 401 invalid_client', async () => {
    for (const id of ['hf_420000_0123456789abcdef', 'hf_999999_0123456789abcdef', 'nobody', "' OR 1=1 --"]) {
      const res = await form({ grant_type: 'client_credentials', client_id: id, client_secret: 'x' });
      expect(res.status).toBe(401);
      expect((await problem(res)).code).toBe('invalid_client');
    }
  });

  it('missing credentials → 401 invalid_client; a grant type other than client_credentials → 400', async () => {
    const none = await form({ grant_type: 'client_credentials' });
    expect(none.status).toBe(401);
    expect((await problem(none)).code).toBe('invalid_client');

    const { clientId, secret } = await newClient();
    const pw = await form({ grant_type: 'password', client_id: clientId, client_secret: secret });
    expect(pw.status).toBe(400);
    const body = await problem(pw);
    expect(body.errors?.map((e) => e.field).join(',')).toMatch(/(^|[.,])grant_type($|,)/);
  });

  it('a scope the client lacks (or an unknown one) → 400 naming `scope`', async () => {
    const { clientId, secret } = await newClient();
    for (const scope of ['divisions:read localities:write', 'audit:verify', 'admin:all']) {
      const res = await form({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
        scope,
      });
      expect(res.status).toBe(400);
      const body = await problem(res);
      expect(body.errors?.map((e) => e.field)).toContain('scope');
    }
  });

  it('after 5 wrong secrets the client is locked: even the right secret → 401 with Retry-After', async () => {
    const { clientId, secret } = await newClient();
    for (let i = 0; i < 5; i += 1) {
      const res = await form({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: `bad${i}`,
      });
      expect(res.status).toBe(401);
    }
    const locked = await form({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret,
    });
    expect(locked.status).toBe(401);
    expect((await problem(locked)).code).toBe('invalid_client');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('once a lock has run out, one more wrong secret does not lock the client again', async () => {
    const { clientId, secret } = await newClient();
    const grant = (s: string) =>
      form({ grant_type: 'client_credentials', client_id: clientId, client_secret: s });
    for (let i = 0; i < 5; i += 1) expect((await grant('bad')).status).toBe(401);
    expect((await grant(secret)).status).toBe(401);
    // Let the lock run out (as 15 minutes would).
    await t.admin.exec(
      `UPDATE api_clients SET locked_until = now() - interval '1 second' WHERE client_id = '${clientId}'`,
    );
    expect((await grant('bad')).status).toBe(401);
    expect((await grant(secret)).status).toBe(200);
  });

  it('a success resets the failure count (4 failures, success, 4 failures → still not locked)', async () => {
    const { clientId, secret } = await newClient();
    const grant = (s: string) =>
      form({ grant_type: 'client_credentials', client_id: clientId, client_secret: s });
    for (let i = 0; i < 4; i += 1) expect((await grant('bad')).status).toBe(401);
    expect((await grant(secret)).status).toBe(200);
    for (let i = 0; i < 4; i += 1) expect((await grant('bad')).status).toBe(401);
    expect((await grant(secret)).status).toBe(200);
  });

  it('a revoked client → 401', async () => {
    const { clientId, secret } = await newClient();
    expect(
      (await form({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret })).status,
    ).toBe(200);
    expect(await revokeClient(t.db, system, clientId)).toBe(true);
    const res = await form({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('invalid_client');
  });

  it('an unsupported content type → 415 or 400 problem', async () => {
    const { clientId, secret } = await newClient();
    const res = await t.call('POST', '/v1/oauth/token', {
      body: `grant_type=client_credentials&client_id=${clientId}&client_secret=${secret}`,
      headers: { 'content-type': 'text/plain' },
    });
    expect([400, 415]).toContain(res.status);
    const body = await problem(res);
    expect(['unsupported_media_type', 'bad_request', 'validation_failed']).toContain(body.code);
  });

  it('an unsupported content type answers the documented 415 unsupported_media_type', async () => {
    const res = await t.call('POST', '/v1/oauth/token', {
      body: 'grant_type=client_credentials',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    expect((await problem(res)).code).toBe('unsupported_media_type');
  });

  it('an integrator token is refused by a server with other keys', async () => {
    const { clientId, secret } = await newClient();
    const res = await form({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret });
    const { access_token } = (await res.json()) as TokenResponse;
    const other = await createTestApp();
    try {
      const r = await other.call('GET', '/v1/divisions', { token: access_token });
      await expectUnauthorizedOn(r);
    } finally {
      await other.close();
    }
  });
});

async function expectUnauthorizedOn(res: Response) {
  expect(res.status).toBe(401);
  expect((await problem(res)).code).toBe('unauthorized');
}
