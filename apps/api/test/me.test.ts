/** GET /v1/me: the verified identity of a token — division, roles, permissions, scope. */
import { permissionsForRoles, type Role } from '@houfu/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, signClientToken, signUserToken } from '../src/index.js';
import { createTestApp, problem, type TestApp, tokenSettings } from './helpers.js';

interface Me {
  sub: string;
  kind: 'user' | 'client';
  name: string | null;
  division: { code: number; name: string; level: string; parent_code: number | null };
  roles: { role: string; label: string }[];
  permissions: string[];
  scope: { lo: number; hi: number };
}

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function me(token: string): Promise<Me> {
  const res = await t.call('GET', '/v1/me', { token });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return (await res.json()) as Me;
}

const sorted = (xs: string[]) => [...xs].sort();

describe('GET /v1/me for each demo role', () => {
  const cases: {
    role: Role;
    division: number;
    name: string;
    label: string;
    scope: { lo: number; hi: number };
  }[] = [
    {
      role: 'county_operator',
      division: 420581,
      name: '宜都市',
      label: '县级经办员',
      scope: { lo: 420581, hi: 420581 },
    },
    {
      role: 'county_approver',
      division: 420582,
      name: '当阳市',
      label: '县级审核员',
      scope: { lo: 420582, hi: 420582 },
    },
    {
      role: 'city_reviewer',
      division: 420500,
      name: '宜昌市',
      label: '市级审核员',
      scope: { lo: 420500, hi: 420599 },
    },
    {
      role: 'province_admin',
      division: 420000,
      name: '湖北省',
      label: '省级管理员',
      scope: { lo: 420000, hi: 429999 },
    },
    {
      role: 'national_admin',
      division: 0,
      name: '中华人民共和国',
      label: '国家级管理员',
      scope: { lo: 0, hi: 999999 },
    },
    {
      role: 'auditor',
      division: 420583,
      name: '枝江市',
      label: '审计监督员',
      scope: { lo: 420583, hi: 420583 },
    },
  ];

  for (const c of cases) {
    it(`${c.role} at ${c.division} (${c.name})`, async () => {
      const body = await me(await t.token(c.division, [c.role], `user:me-${c.role}`));
      expect(body.sub).toBe(`user:me-${c.role}`);
      expect(body.kind).toBe('user');
      expect(body.name).toBeNull();
      expect(body.division.code).toBe(c.division);
      expect(body.division.name).toBe(c.name);
      expect(body.roles).toEqual([{ role: c.role, label: c.label }]);
      expect(body.permissions).toEqual(sorted([...permissionsForRoles([c.role as Role])]));
      expect(body.permissions).toEqual(sorted(body.permissions));
      expect(body.scope).toEqual(c.scope);
    });
  }

  it('several roles: the union of their permissions, sorted, each role with its label; the name claim', async () => {
    const token = await signUserToken(t.keys, tokenSettings, {
      sub: 'user:zhang.wei',
      division: 420581,
      roles: ['county_operator', 'county_approver'],
      name: '张伟',
      ttlSeconds: 300,
    });
    const body = await me(token);
    expect(body.name).toBe('张伟');
    expect(body.roles).toEqual([
      { role: 'county_operator', label: '县级经办员' },
      { role: 'county_approver', label: '县级审核员' },
    ]);
    expect(body.permissions).toEqual(
      sorted([...permissionsForRoles(['county_operator', 'county_approver'])]),
    );
    expect(body.permissions).toContain('registry:write');
    expect(body.permissions).toContain('registry:verify');
  });

  it('the division of a county carries its level and parent', async () => {
    const body = await me(await t.token(420581, ['county_operator']));
    expect(body.division).toEqual({ code: 420581, name: '宜都市', level: 'county', parent_code: 420500 });
  });

  it('no token → 401', async () => {
    const res = await t.call('GET', '/v1/me');
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('unauthorized');
  });
});

describe('GET /v1/me for an integrator', () => {
  it('a token from the client-credentials flow → kind client, its scopes as permissions', async () => {
    const { clientId, secret } = await createApiClient(
      t.db,
      { sub: 'test', kind: 'system', division: 420000 },
      { division: 420000, name: '测试银行', scopes: ['divisions:read', 'audit:read'] },
    );
    const res = await t.call('POST', '/v1/oauth/token', {
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    const body = await me(access_token);
    expect(body).toMatchObject({ sub: `client:${clientId}`, kind: 'client', roles: [], name: null });
    expect(body.division).toMatchObject({ code: 420000, name: '湖北省' });
    expect(body.permissions).toEqual(['audit:read', 'divisions:read']);
    expect(body.scope).toEqual({ lo: 420000, hi: 429999 });
  });

  it('a client token (signed directly) → kind client, its scopes as permissions, sorted', async () => {
    const token = await signClientToken(t.keys, tokenSettings, {
      clientId: 'hf_420500_0123456789abcdef',
      division: 420500,
      scopes: ['localities:read', 'divisions:read', 'audit:read'],
      ttlSeconds: 300,
    });
    const body = await me(token);
    expect(body).toMatchObject({ sub: 'client:hf_420500_0123456789abcdef', kind: 'client', roles: [] });
    expect(body.division.name).toBe('宜昌市');
    expect(body.permissions).toEqual(['audit:read', 'divisions:read', 'localities:read']);
    expect(body.scope).toEqual({ lo: 420500, hi: 420599 });
  });

  it('any authenticated caller may ask who it is: a client token with only audit:read', async () => {
    const token = await signClientToken(t.keys, tokenSettings, {
      clientId: 'hf_420000_0123456789abcdef',
      division: 420000,
      scopes: ['audit:read'],
      ttlSeconds: 300,
    });
    const body = await me(token);
    expect(body.kind).toBe('client');
    expect(body.permissions).toEqual(['audit:read']);
    // …but that token still cannot read what needs another permission.
    const res = await t.call('GET', '/v1/divisions', { token });
    expect(res.status).toBe(403);
    expect((await problem(res)).code).toBe('forbidden');
  });
});
