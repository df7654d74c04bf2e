import { sql } from 'drizzle-orm';
import { bigint, boolean, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Drizzle mirror of the SQL migrations in ../migrations (the migrations are the source of truth for
 * DDL, RLS and grants; this file gives query functions their types). A test compares the two.
 */

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** 行政区划 — the GB/T 2260 division dictionary (shared reference data, no RLS). */
export const divisions = pgTable('divisions', {
  code: integer('code').primaryKey(),
  name: text('name').notNull(),
  level: text('level', { enum: ['nation', 'province', 'city', 'county'] }).notNull(),
  parentCode: integer('parent_code'),
});

/** 乡镇/街道 and 村/社区 of a county (tenant data owned by the county). */
export const localities = pgTable(
  'localities',
  {
    divisionCode: integer('division_code').notNull(),
    code: bigint('code', { mode: 'number' }).notNull(),
    level: text('level', { enum: ['township', 'village'] }).notNull(),
    townshipCode: bigint('township_code', { mode: 'number' }).notNull(),
    name: text('name').notNull(),
    source: text('source', { enum: ['dictionary', 'local'] }).notNull(),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
    updatedAt: timestamptz('updated_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.code] })],
);

/** 审计日志 — append-only, hash-chained per division. */
export const auditEvents = pgTable(
  'audit_events',
  {
    divisionCode: integer('division_code').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    occurredAt: timestamptz('occurred_at').notNull(),
    actorSub: text('actor_sub').notNull(),
    actorKind: text('actor_kind', { enum: ['user', 'client', 'system'] }).notNull(),
    actorDivision: integer('actor_division').notNull(),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    changes: jsonb('changes').$type<Record<string, unknown>>().notNull(),
    requestId: text('request_id'),
    outcome: text('outcome', { enum: ['success', 'failure'] }).notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.seq] })],
);

export const auditHeads = pgTable('audit_heads', {
  divisionCode: integer('division_code').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
});

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    divisionCode: integer('division_code').notNull(),
    /** The caller's subject: keys are scoped to one caller within a division. */
    principal: text('principal').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    responseStatus: integer('response_status').notNull(),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>().notNull(),
    responseBody: text('response_body').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.principal, t.key] })],
);

/** Integrator clients (第三方系统): secrets stored as scrypt hashes. */
export const apiClients = pgTable(
  'api_clients',
  {
    divisionCode: integer('division_code').notNull(),
    clientId: text('client_id').notNull(),
    name: text('name').notNull(),
    secretHash: text('secret_hash').notNull(),
    scopes: text('scopes').array().notNull(),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    lockedUntil: timestamptz('locked_until'),
    revokedAt: timestamptz('revoked_at'),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.clientId] })],
);
