/**
 * The role × operation matrix, derived from the OpenAPI document: every role (at every level it may
 * hold) and every integrator scope calls every protected operation; each pair the permission map does
 * not allow answers 403, each pair it allows does not. A new route is covered without editing this file.
 */
import { readFile } from 'node:fs/promises';
import { type DivisionLevel, integratorScopes, roleDefinitions, roles } from '@houfu/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signClientToken } from '../src/auth/tokens.js';
import { authorizationMarkdown, authorizationMatrix } from '../src/authorization.js';
import { openApiDocument } from '../src/index.js';
import { createTestApp, problem, type TestApp, tokenSettings } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const divisionAt: Record<DivisionLevel, number> = {
  nation: 0,
  province: 420000,
  city: 420500,
  county: 420581,
};
const matrix = authorizationMatrix();
const doc = openApiDocument();

/** The path with its parameters filled from the document's own examples. */
function concretePath(path: string, method: string): string {
  type Operation = { parameters?: { name: string; in: string; schema?: { example?: unknown } }[] };
  const item = doc.paths?.[path] as Record<string, Operation> | undefined;
  const op = item?.[method.toLowerCase()];
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const example = op?.parameters?.find((p) => p.in === 'path' && p.name === name)?.schema?.example;
    if (example === undefined) throw new Error(`no example for {${name}} in ${method} ${path}`);
    return String(example);
  });
}

async function callAs(token: string, row: (typeof matrix)[number]) {
  const hasBody = row.method === 'POST' || row.method === 'PATCH' || row.method === 'PUT';
  return t.call(row.method, concretePath(row.path, row.method), { token, ...(hasBody ? { body: {} } : {}) });
}

async function expectOutcome(res: Response, allowed: boolean, label: string) {
  if (allowed) {
    expect([401, 403, 500], label).not.toContain(res.status);
  } else {
    expect(res.status, label).toBe(403);
    expect((await problem(res)).code).toBe('forbidden');
  }
}

describe('authorization matrix (from the OpenAPI document)', () => {
  it('covers every protected operation', () => {
    const protectedOps = Object.values(doc.paths ?? {}).flatMap((item) =>
      Object.values(item ?? {}).filter((op) => (op as { security?: unknown[] }).security?.length),
    );
    expect(matrix).toHaveLength(protectedOps.length);
    expect(matrix.length).toBeGreaterThan(0);
  });

  const holders = roles.flatMap((role) => roleDefinitions[role].levels.map((level) => ({ role, level })));
  it.each(holders)('$role at a $level: 403 exactly where the matrix says —', async ({ role, level }) => {
    const token = await t.token(divisionAt[level], [role], `user:matrix:${role}:${level}`);
    for (const row of matrix) {
      await expectOutcome(
        await callAs(token, row),
        row.roles[role],
        `${role}@${level} ${row.method} ${row.path}`,
      );
    }
  });

  it.each(integratorScopes)('an integrator token with only %s', async (scope) => {
    const token = await signClientToken(t.keys, tokenSettings, {
      clientId: `hf_420000_matrix${scope.replace(':', '')}`,
      division: 420000,
      scopes: [scope],
      ttlSeconds: 300,
    });
    for (const row of matrix) {
      const allowed = row.permission === 'authenticated' || row.permission === scope;
      await expectOutcome(await callAs(token, row), allowed, `${scope} ${row.method} ${row.path}`);
    }
  });

  it('docs/authorization.md is the generated table (run `pnpm --filter @houfu/api run docs:authorization`)', async () => {
    const committed = await readFile(new URL('../../../docs/authorization.md', import.meta.url), 'utf8');
    expect(committed).toBe(authorizationMarkdown());
  });
});
