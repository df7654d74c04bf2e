import { describe, expect, it } from 'vitest';
import {
  type DivisionLevel,
  integratorScopes,
  type Permission,
  parseScopes,
  permissionSchema,
  permissions,
  permissionsForRoles,
  type Role,
  roleAllowedAt,
  roleDefinitions,
  roleSchema,
  roles,
} from '../src/index.js';

describe('roleDefinitions', () => {
  it.each<[Role, string, DivisionLevel[], Permission[]]>([
    [
      'county_operator',
      '县级经办员',
      ['county'],
      [
        'divisions:read',
        'localities:read',
        'localities:write',
        'registry:read',
        'registry:write',
        'registry:reveal',
        'jobs:read',
        'subsidy:read',
        'subsidy:prepare',
        'subsidy:export',
        'policy:read',
        'projects:read',
        'aid:read',
        'projects:write',
        'projects:accept',
        'demonstration:write',
        'progress:report',
        'aid:write',
        'training:read',
        'training:write',
      ],
    ],
    [
      'county_approver',
      '县级审核员',
      ['county'],
      [
        'divisions:read',
        'localities:read',
        'audit:read',
        'registry:read',
        'registry:reveal',
        'registry:verify',
        'jobs:read',
        'subsidy:read',
        'subsidy:approve',
        'aid:pay',
        'policy:read',
        'projects:read',
        'projects:pay',
        'aid:read',
        'training:read',
      ],
    ],
    [
      'city_reviewer',
      '市级审核员',
      ['city'],
      [
        'divisions:read',
        'localities:read',
        'audit:read',
        'registry:read',
        'registry:resolve',
        'jobs:read',
        'subsidy:read',
        'policy:read',
        'projects:read',
        'aid:read',
        'projects:review',
        'projects:accept',
        'training:read',
        'training:approve',
      ],
    ],
    [
      'province_admin',
      '省级管理员',
      ['province'],
      [
        'divisions:read',
        'localities:read',
        'audit:read',
        'audit:verify',
        'registry:read',
        'registry:resolve',
        'jobs:read',
        'subsidy:read',
        'policy:read',
        'policy:write',
        'projects:read',
        'aid:read',
        'projects:review',
        'projects:accept',
        'funds:allocate',
        'demonstration:assess',
        'progress:plan',
        'training:read',
        'training:approve',
      ],
    ],
    [
      'national_admin',
      '国家级管理员',
      ['nation'],
      [
        'divisions:read',
        'localities:read',
        'audit:read',
        'audit:verify',
        'registry:read',
        'registry:resolve',
        'jobs:read',
        'subsidy:read',
        'policy:read',
        'projects:read',
        'aid:read',
        'funds:allocate',
        'training:read',
      ],
    ],
    [
      'auditor',
      '审计监督员',
      ['nation', 'province', 'city', 'county'],
      [
        'divisions:read',
        'localities:read',
        'audit:read',
        'audit:verify',
        'registry:read',
        'jobs:read',
        'subsidy:read',
        'policy:read',
        'projects:read',
        'aid:read',
        'training:read',
      ],
    ],
  ])('%s is %s at %j with %j', (role, label, levels, perms) => {
    const def = roleDefinitions[role];
    expect(def.role).toBe(role);
    expect(def.label).toBe(label);
    expect([...def.levels]).toEqual(levels);
    expect([...def.permissions].sort()).toEqual([...perms].sort());
    expect(def.description.length).toBeGreaterThan(0);
  });

  it('defines every role and nothing else', () => {
    expect(Object.keys(roleDefinitions).sort()).toEqual([...roles].sort());
  });

  it('only the county operator may write', () => {
    const writers = roles.filter((r) => roleDefinitions[r].permissions.includes('localities:write'));
    expect(writers).toEqual(['county_operator']);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(roleDefinitions)).toBe(true);
    expect(Object.isFrozen(roleDefinitions.auditor)).toBe(true);
    expect(Object.isFrozen(roleDefinitions.auditor.permissions)).toBe(true);
  });
});

describe('subsidy and policy permissions (maker-checker)', () => {
  it.each<[Permission, Role[]]>([
    ['subsidy:prepare', ['county_operator']],
    ['subsidy:approve', ['county_approver']],
    ['subsidy:export', ['county_operator']],
    ['policy:write', ['province_admin']],
    [
      'subsidy:read',
      ['county_operator', 'county_approver', 'city_reviewer', 'province_admin', 'national_admin', 'auditor'],
    ],
    [
      'policy:read',
      ['county_operator', 'county_approver', 'city_reviewer', 'province_admin', 'national_admin', 'auditor'],
    ],
  ])('%s is held by exactly %j', (permission, holders) => {
    expect(roles.filter((r) => roleDefinitions[r].permissions.includes(permission))).toEqual(holders);
  });

  it('no role both prepares and approves a batch', () => {
    for (const r of roles) {
      const p = roleDefinitions[r].permissions;
      expect(p.includes('subsidy:prepare') && p.includes('subsidy:approve'), r).toBe(false);
    }
  });
});

describe('project and fund permissions', () => {
  it.each<[Permission, Role[]]>([
    [
      'projects:read',
      ['county_operator', 'county_approver', 'city_reviewer', 'province_admin', 'national_admin', 'auditor'],
    ],
    ['projects:write', ['county_operator']],
    ['projects:review', ['city_reviewer', 'province_admin']],
    ['projects:pay', ['county_approver']],
    ['projects:accept', ['county_operator', 'city_reviewer', 'province_admin']],
    ['funds:allocate', ['province_admin', 'national_admin']],
    ['demonstration:write', ['county_operator']],
    ['demonstration:assess', ['province_admin']],
    ['progress:plan', ['province_admin']],
    ['progress:report', ['county_operator']],
  ])('%s is held by exactly %j', (permission, holders) => {
    expect(roles.filter((r) => roleDefinitions[r].permissions.includes(permission))).toEqual(holders);
  });

  it('no county role allocates funds or reviews projects', () => {
    for (const r of roles.filter((x) => roleDefinitions[x].levels.includes('county'))) {
      expect(roleDefinitions[r].permissions.includes('funds:allocate'), r).toBe(false);
      if (r !== 'auditor') expect(roleDefinitions[r].permissions.includes('projects:review'), r).toBe(false);
    }
  });

  it('the clerk who reports progress and accepts is not the one who pays the contractor', () => {
    for (const r of roles) {
      const def = roleDefinitions[r];
      expect(def.permissions.includes('projects:write') && def.permissions.includes('projects:pay'), r).toBe(
        false,
      );
    }
  });

  it('only the county pays contractors, and nobody above the province accepts a project', () => {
    for (const r of roles) {
      const def = roleDefinitions[r];
      if (def.permissions.includes('projects:pay')) expect(def.levels, r).toEqual(['county']);
      if (def.permissions.includes('projects:accept')) expect(def.levels.includes('nation'), r).toBe(false);
    }
  });
});

describe('vocational education aid permissions', () => {
  it.each<[Permission, Role[]]>([
    [
      'aid:read',
      ['county_operator', 'county_approver', 'city_reviewer', 'province_admin', 'national_admin', 'auditor'],
    ],
    ['aid:write', ['county_operator']],
    ['aid:pay', ['county_approver']],
  ])('%s is held by exactly %j', (permission, holders) => {
    expect(roles.filter((r) => roleDefinitions[r].permissions.includes(permission))).toEqual(holders);
  });

  it('no role both enters an application and pays it', () => {
    for (const r of roles) {
      const p = roleDefinitions[r].permissions;
      expect(p.includes('aid:write') && p.includes('aid:pay'), r).toBe(false);
    }
  });
});

describe('training permissions', () => {
  it.each<[Permission, Role[]]>([
    [
      'training:read',
      ['county_operator', 'county_approver', 'city_reviewer', 'province_admin', 'national_admin', 'auditor'],
    ],
    ['training:write', ['county_operator']],
    ['training:approve', ['city_reviewer', 'province_admin']],
  ])('%s is held by exactly %j', (permission, holders) => {
    expect(roles.filter((r) => roleDefinitions[r].permissions.includes(permission))).toEqual(holders);
  });

  it('no one both writes and approves training plans', () => {
    for (const r of roles) {
      const p = roleDefinitions[r].permissions;
      expect(p.includes('training:write') && p.includes('training:approve'), r).toBe(false);
    }
  });
});

describe('permissionsForRoles', () => {
  it.each<[Role[], Permission[]]>([
    [[], []],
    [
      ['county_operator'],
      [
        'divisions:read',
        'localities:read',
        'localities:write',
        'registry:read',
        'registry:write',
        'registry:reveal',
        'jobs:read',
        'subsidy:read',
        'subsidy:prepare',
        'subsidy:export',
        'policy:read',
        'projects:read',
        'aid:read',
        'projects:write',
        'projects:accept',
        'demonstration:write',
        'progress:report',
        'aid:write',
        'training:read',
        'training:write',
      ],
    ],
    [
      ['county_operator', 'county_approver'],
      [
        'divisions:read',
        'localities:read',
        'localities:write',
        'audit:read',
        'registry:read',
        'registry:write',
        'registry:reveal',
        'registry:verify',
        'jobs:read',
        'subsidy:read',
        'subsidy:prepare',
        'subsidy:approve',
        'aid:pay',
        'subsidy:export',
        'policy:read',
        'projects:read',
        'aid:read',
        'projects:write',
        'projects:pay',
        'projects:accept',
        'demonstration:write',
        'progress:report',
        'aid:write',
        'training:read',
        'training:write',
      ],
    ],
    [
      ['city_reviewer', 'city_reviewer'],
      [
        'divisions:read',
        'localities:read',
        'audit:read',
        'registry:read',
        'registry:resolve',
        'jobs:read',
        'subsidy:read',
        'policy:read',
        'projects:read',
        'aid:read',
        'projects:review',
        'projects:accept',
        'training:read',
        'training:approve',
      ],
    ],
    [
      ['auditor'],
      [
        'divisions:read',
        'localities:read',
        'audit:read',
        'audit:verify',
        'registry:read',
        'jobs:read',
        'subsidy:read',
        'policy:read',
        'projects:read',
        'aid:read',
        'training:read',
      ],
    ],
    [['county_operator', 'county_approver', 'city_reviewer', 'province_admin', 'auditor'], [...permissions]],
  ])('%j → %j', (input, expected) => {
    expect([...permissionsForRoles(input)].sort()).toEqual([...expected].sort());
  });

  it('rejects an unknown role', () => {
    expect(() => permissionsForRoles(['superuser' as Role])).toThrow(RangeError);
    expect(() => permissionsForRoles(['toString' as Role])).toThrow(RangeError);
  });
});

describe('roleAllowedAt', () => {
  it.each<[Role, number, boolean]>([
    ['county_operator', 420581, true],
    ['county_operator', 429004, true],
    ['county_operator', 420500, false],
    ['county_operator', 420000, false],
    ['county_operator', 0, false],
    ['county_approver', 420581, true],
    ['county_approver', 420500, false],
    ['city_reviewer', 420500, true],
    ['city_reviewer', 429000, true],
    ['city_reviewer', 420581, false],
    ['city_reviewer', 420000, false],
    ['province_admin', 420000, true],
    ['province_admin', 420500, false],
    ['province_admin', 0, false],
    ['national_admin', 0, true],
    ['national_admin', 420000, false],
    ['auditor', 0, true],
    ['auditor', 420000, true],
    ['auditor', 420500, true],
    ['auditor', 420581, true],
  ])('roleAllowedAt(%s, %i) → %s', (role, division, expected) => {
    expect(roleAllowedAt(role, division)).toBe(expected);
  });

  it('throws on an invalid division or unknown role', () => {
    expect(() => roleAllowedAt('auditor', 420010)).toThrow(RangeError);
    expect(() => roleAllowedAt('root' as Role, 0)).toThrow(RangeError);
  });
});

describe('integrator scopes', () => {
  it('grant no write permission', () => {
    expect([...integratorScopes]).toEqual([
      'divisions:read',
      'localities:read',
      'audit:read',
      'audit:verify',
      'registry:read',
      'subsidy:read',
      'policy:read',
      'projects:read',
    ]);
    expect(integratorScopes.some((s) => s.endsWith(':write'))).toBe(false);
  });

  it.each<[string, Permission[]]>([
    ['', []],
    ['   ', []],
    ['divisions:read', ['divisions:read']],
    ['divisions:read localities:read', ['divisions:read', 'localities:read']],
    ['audit:read  audit:verify audit:read', ['audit:read', 'audit:verify']],
    [' localities:write ', ['localities:write']],
  ])('parseScopes(%j) → %j', (input, expected) => {
    expect(parseScopes(input)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['divisions:read admin', 'admin'],
    ['Divisions:read', 'Divisions:read'],
    ['divisions:read,localities:read', 'divisions:read,localities:read'],
    ['openid', 'openid'],
  ])('parseScopes(%j) throws naming %j', (input, unknown) => {
    expect(() => parseScopes(input)).toThrow(RangeError);
    expect(() => parseScopes(input)).toThrow(unknown);
  });
});

describe('schemas', () => {
  it.each<[unknown, boolean]>([
    ['county_operator', true],
    ['auditor', true],
    ['admin', false],
    ['', false],
    [1, false],
  ])('roleSchema.safeParse(%j).success → %s', (input, expected) => {
    expect(roleSchema.safeParse(input).success).toBe(expected);
  });

  it.each<[unknown, boolean]>([
    ['divisions:read', true],
    ['localities:write', true],
    ['audit:verify', true],
    ['audit:write', false],
    ['', false],
  ])('permissionSchema.safeParse(%j).success → %s', (input, expected) => {
    expect(permissionSchema.safeParse(input).success).toBe(expected);
  });

  it('enumerate the constant lists', () => {
    expect(roleSchema.options).toEqual([...roles]);
    expect(permissionSchema.options).toEqual([...permissions]);
  });
});
