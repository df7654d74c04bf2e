import { type DivisionLevel, type Permission, type Role, roleDefinitions, roles } from '@houfu/domain';
import { openApiDocument } from './openapi-document.js';

/** One operation of the OpenAPI document and who may call it. */
export interface AuthorizationRow {
  operationId: string;
  method: string;
  path: string;
  /** `authenticated` when any valid token will do. */
  permission: Permission | 'authenticated';
  roles: Record<Role, boolean>;
}

/**
 * The role × operation matrix, derived from the OpenAPI document (`x-permission` on every protected
 * operation) and the role → permission map: what the API enforces, in one table.
 */
export function authorizationMatrix(): AuthorizationRow[] {
  const rows: AuthorizationRow[] = [];
  for (const [path, item] of Object.entries(openApiDocument().paths ?? {})) {
    for (const [method, op] of Object.entries(item ?? {})) {
      const permission = (op as { 'x-permission'?: Permission | 'authenticated' })['x-permission'];
      if (!permission) continue;
      rows.push({
        operationId: (op as { operationId: string }).operationId,
        method: method.toUpperCase(),
        path,
        permission,
        roles: Object.fromEntries(
          roles.map((r) => [
            r,
            permission === 'authenticated' || roleDefinitions[r].permissions.includes(permission),
          ]),
        ) as Record<Role, boolean>,
      });
    }
  }
  return rows.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

const levelLabel: Record<DivisionLevel, string> = {
  nation: '国家',
  province: '省',
  city: '市',
  county: '县',
};

/** docs/authorization.md, generated from the matrix (a test fails when the committed file differs). */
export function authorizationMarkdown(): string {
  const rows = authorizationMatrix();
  const header = `| operation | method and path | permission | ${roles.map((r) => `\`${r}\``).join(' | ')} |`;
  const rule = `| --- | --- | --- | ${roles.map(() => ':---:').join(' | ')} |`;
  const lines = rows.map(
    (r) =>
      `| \`${r.operationId}\` | \`${r.method} ${r.path}\` | \`${r.permission}\` | ${roles.map((role) => (r.roles[role] ? '✓' : '—')).join(' | ')} |`,
  );
  const roleLines = roles.map((r) => {
    const d = roleDefinitions[r];
    return `| \`${r}\` | ${d.label} | ${d.levels.map((l) => levelLabel[l]).join('、')} | ${d.permissions.map((p) => `\`${p}\``).join(', ')} |`;
  });
  return `# Who may do what (授权矩阵)

Generated from the OpenAPI document (\`x-permission\` on each operation) and the role → permission
map in \`packages/domain/src/permissions.ts\`; do not edit by hand. Regenerate with
\`pnpm --filter @houfu/api run docs:authorization\`. A test calls every operation with a token of
every role and checks that each — below is answered 403 and each ✓ is not.

Integrator tokens (\`POST /v1/oauth/token\`) carry scopes instead of roles: an operation is allowed
when its permission is among the token's scopes (any token may call \`authenticated\` operations).

## Operations

${header}
${rule}
${lines.join('\n')}

## Roles

| role | 名称 | levels | permissions |
| --- | --- | --- | --- |
${roleLines.join('\n')}
`;
}
