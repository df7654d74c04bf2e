/**
 * Function-level permissions 功能权限: which roles 角色 may perform which
 * actions, enforced by the API. Data-level scope (which divisions a user may
 * see) is handled separately by {@link scopeOf} in `divisions.ts`.
 */

import { z } from 'zod';
import { type DivisionLevel, divisionLevel } from './divisions.js';

/** Every permission 权限 the API knows, as `resource:action`. */
export const permissions = [
  'divisions:read',
  'localities:read',
  'localities:write',
  'audit:read',
  'audit:verify',
  /** 移民人口登记: read households, persons (masked), events, imports, verifications, summaries. */
  'registry:read',
  /** Register and edit households and persons, record status events, import files (county clerks). */
  'registry:write',
  /** See a full national ID or bank account, one person at a time, with an audited reason. */
  'registry:reveal',
  /** Submit the county's annual verification 年度核定. */
  'registry:verify',
  /** Resolve a cross-county registration conflict (the reviewing city, province or nation). */
  'registry:resolve',
  /** Follow background jobs (imports, later payment batches) of the divisions in scope. */
  'jobs:read',
  /** 直补资金发放: read payment batches, their lines (masked), oversight summaries and project funds. */
  'subsidy:read',
  /** Create, recompute and cancel payment batches, import bank return files, resolve exceptions and failed lines. */
  'subsidy:prepare',
  /** Approve a payment batch (maker-checker 审批分离: never the one who prepared it). */
  'subsidy:approve',
  /** Download a batch's bank file with full account numbers (audited). */
  'subsidy:export',
  /** Read policy parameters 政策参数, province overrides and county/village payment modes. */
  'policy:read',
  /** Set the province's own parameter overrides and county/village payment modes 扶持方式. */
  'policy:write',
  /** 后扶项目: read projects, their funding lines and approval history, fund allocations and balances. */
  'projects:read',
  /** Create and edit the county's projects, plan, submit, resubmit, change the scope of and cancel them (county clerks). */
  'projects:write',
  /** Act on a step of a project's approval route 审批 (review, approve, return, record); the step's level is checked per project. */
  'projects:review',
  /** Record contractor payments 工程款支付 of the county's projects by the payment schedule (county clerks; 县级报账制). */
  'projects:pay',
  /** Act on a stage of completion acceptance 竣工验收 (self-check and county by the county, then city and province by size); the stage's level is checked per project. */
  'projects:accept',
  /** Allocate 下达 post-support, Three Gorges and small-reservoir funds to a county (the province, or the nation). */
  'funds:allocate',
  /** 示范村: apply for a village of the county and record villages' collective income 村集体收入 (county clerks). */
  'demonstration:write',
  /** Assess, name and re-assess 考核命名/复核 the demonstration villages of the province (the province). */
  'demonstration:assess',
  /** Set the counties' 双过半 progress targets (the province). */
  'progress:plan',
  /** Report what is done on the county's progress targets 进度上报 (county clerks). */
  'progress:report',
  /** 移民子女职业教育资助: read vocational education aid applications (child ID masked) and their steps. */
  'aid:read',
  /** Enter aid applications and record the village posting and the township's review (county clerks). */
  'aid:write',
  /** Record the county's payment 县级发放 of an aid application, within the province's limits. */
  'aid:pay',
  /** 移民培训: read training plans, providers, calls for bids and their selection, sessions and the oversight report. */
  'training:read',
  /** Enter and edit the county's training plan, submit it, record providers, calls, bids, selections and sessions (county clerks). */
  'training:write',
  /** Act on a step of a training plan's approval route 审批 (review, approve, return, record); the step's level is checked per plan. */
  'training:approve',
] as const;
/** One permission name. */
export type Permission = (typeof permissions)[number];

/** Every role 角色 a bureau user may hold. */
export const roles = [
  'county_operator',
  'county_approver',
  'city_reviewer',
  'province_admin',
  'national_admin',
  'auditor',
] as const;
/** One role name. */
export type Role = (typeof roles)[number];

/** What a role is: its Chinese label, where it may sit, and what it may do. */
export interface RoleDefinition {
  role: Role;
  /** Chinese label shown in the UI. */
  label: string;
  /** Division levels a holder of the role may sit at. */
  levels: readonly DivisionLevel[];
  permissions: readonly Permission[];
  description: string;
}

function define(def: RoleDefinition): RoleDefinition {
  return Object.freeze({
    ...def,
    levels: Object.freeze([...def.levels]),
    permissions: Object.freeze([...def.permissions]),
  });
}

/** The role catalogue. */
export const roleDefinitions: Readonly<Record<Role, RoleDefinition>> = Object.freeze({
  county_operator: define({
    role: 'county_operator',
    label: '县级经办员',
    levels: ['county'],
    permissions: [
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
      'projects:write',
      'projects:accept',
      'demonstration:write',
      'progress:report',
      'aid:read',
      'aid:write',
      'training:read',
      'training:write',
    ],
    description: 'County bureau clerk: maintains townships and villages of the county and prepares data.',
  }),
  county_approver: define({
    role: 'county_approver',
    label: '县级审核员',
    levels: ['county'],
    permissions: [
      'divisions:read',
      'localities:read',
      'audit:read',
      'registry:read',
      'registry:reveal',
      'registry:verify',
      'jobs:read',
      'subsidy:read',
      'subsidy:approve',
      'policy:read',
      'projects:read',
      'projects:pay',
      'aid:read',
      'aid:pay',
      'training:read',
    ],
    description: 'County bureau approver: reviews the county clerks’ work and reads its audit trail.',
  }),
  city_reviewer: define({
    role: 'city_reviewer',
    label: '市级审核员',
    levels: ['city'],
    permissions: [
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
    description: 'City bureau reviewer: reads the data and audit trail of the counties in the city.',
  }),
  province_admin: define({
    role: 'province_admin',
    label: '省级管理员',
    levels: ['province'],
    permissions: [
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
    description: 'Provincial bureau administrator: oversees the province and verifies audit-chain integrity.',
  }),
  national_admin: define({
    role: 'national_admin',
    label: '国家级管理员',
    levels: ['nation'],
    permissions: [
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
    description: 'National administrator: oversees all provinces and verifies audit-chain integrity.',
  }),
  auditor: define({
    role: 'auditor',
    label: '审计监督员',
    levels: ['nation', 'province', 'city', 'county'],
    permissions: [
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
    description:
      'Audit and supervision officer at any level: reads data and verifies the audit trail, never writes.',
  }),
});

function definitionOf(role: Role): RoleDefinition {
  const def = (roles as readonly string[]).includes(role) ? roleDefinitions[role] : undefined;
  if (!def) throw new RangeError(`unknown role: ${JSON.stringify(role)}`);
  return def;
}

/** Union of the permissions of `roles`; throws RangeError on an unknown role. */
export function permissionsForRoles(roles: readonly Role[]): ReadonlySet<Permission> {
  const out = new Set<Permission>();
  for (const role of roles) {
    for (const p of definitionOf(role).permissions) out.add(p);
  }
  return out;
}

/**
 * True when `role` may be held by a user sitting at `division` (judged by the
 * division's level). Throws RangeError on an unknown role or invalid division.
 */
export function roleAllowedAt(role: Role, division: number): boolean {
  return definitionOf(role).levels.includes(divisionLevel(division));
}

/**
 * OAuth scopes an integrator 第三方接入方 (bank, statistics bureau, audit office)
 * may be granted; scope names are permission names. No write scope for now.
 */
export const integratorScopes: readonly Permission[] = Object.freeze([
  'divisions:read',
  'localities:read',
  'audit:read',
  'audit:verify',
  'registry:read',
  'subsidy:read',
  'policy:read',
  'projects:read',
] as const);

/**
 * Parses an OAuth `scope` string (space-separated permission names) into
 * permissions, first occurrence order, duplicates removed. An unknown name
 * throws RangeError naming it. This checks names only: whether a client may
 * hold a scope (see {@link integratorScopes}) is for the caller to decide.
 */
export function parseScopes(scope: string): Permission[] {
  const out: Permission[] = [];
  for (const token of scope.split(/\s+/)) {
    if (token === '') continue;
    if (!(permissions as readonly string[]).includes(token)) {
      throw new RangeError(`unknown scope: ${JSON.stringify(token)}`);
    }
    const p = token as Permission;
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** Zod schema for a role name. */
export const roleSchema = z.enum(roles);
/** Zod schema for a permission name. */
export const permissionSchema = z.enum(permissions);
