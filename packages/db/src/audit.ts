import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { and, asc, desc, eq, gte, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { Tx } from './client.js';
import { auditEvents, auditHeads } from './schema.js';
import { rowsOf } from './tenant.js';

// The package declares an ES default export but ships CommonJS: the default import is the function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string;

export type AuditEvent = typeof auditEvents.$inferSelect;

/** The hash a chain starts from. */
export const GENESIS_HASH = '0'.repeat(64);

export interface Actor {
  sub: string;
  kind: AuditEvent['actorKind'];
  division: number;
}

/** Field-level changes: `{ name: { old: '旧名', new: '新名' } }`; creations have `old: null`. */
export type Changes = Record<string, { old: unknown; new: unknown }>;

export interface AuditInput {
  /** The division that owns the entity: the chain the record joins. */
  division: number;
  actor: Actor;
  action: string;
  entityType: string;
  entityId: string;
  changes: Changes;
  requestId: string | null;
  outcome?: AuditEvent['outcome'];
  occurredAt: Date;
}

type Hashed = Omit<AuditEvent, 'hash' | 'prevHash'>;

/** SHA-256 over the previous hash and the RFC 8785 canonical JSON of the record's fields. */
export function auditHash(prevHash: string, e: Hashed): string {
  const body = canonicalize([
    e.divisionCode,
    e.seq,
    e.occurredAt.toISOString(),
    e.actorSub,
    e.actorKind,
    e.actorDivision,
    e.action,
    e.entityType,
    e.entityId,
    e.changes,
    e.requestId,
    e.outcome,
  ]);
  return createHash('sha256').update(`${prevHash}\n${body}`).digest('hex');
}

/**
 * Appends one record to its division's chain, in the caller's transaction. `audit_next()` (an owner
 * function) locks the division's head row until commit, which serialises writers within a division so
 * the chain never forks; the insert trigger checks the link and advances the head.
 */
export async function appendAudit(tx: Tx, input: AuditInput): Promise<AuditEvent> {
  const [head] = rowsOf<{ next_seq: string | number; prev_hash: string }>(
    await tx.execute(sql`SELECT next_seq, prev_hash FROM audit_next(${input.division})`),
  );
  if (!head) throw new Error('audit head not returned');
  const record: Hashed = {
    divisionCode: input.division,
    seq: Number(head.next_seq),
    occurredAt: input.occurredAt,
    actorSub: input.actor.sub,
    actorKind: input.actor.kind,
    actorDivision: input.actor.division,
    action: input.action,
    entityType: input.entityType,
    entityId: input.entityId,
    changes: input.changes,
    requestId: input.requestId,
    outcome: input.outcome ?? 'success',
  };
  const event: AuditEvent = { ...record, prevHash: head.prev_hash, hash: auditHash(head.prev_hash, record) };
  await tx.insert(auditEvents).values(event);
  return event;
}

export interface AuditFilter {
  division?: number | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
  action?: string | undefined;
  actorSub?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Keyset: events strictly older than this (newest first). */
  before?: { occurredAt: Date; divisionCode: number; seq: number } | undefined;
  limit: number;
}

export async function listAuditEvents(tx: Tx, f: AuditFilter): Promise<AuditEvent[]> {
  const where: SQL[] = [];
  if (f.division !== undefined) where.push(eq(auditEvents.divisionCode, f.division));
  if (f.entityType) where.push(eq(auditEvents.entityType, f.entityType));
  if (f.entityId) where.push(eq(auditEvents.entityId, f.entityId));
  if (f.action) where.push(eq(auditEvents.action, f.action));
  if (f.actorSub) where.push(eq(auditEvents.actorSub, f.actorSub));
  if (f.from) where.push(gte(auditEvents.occurredAt, f.from));
  if (f.to) where.push(lt(auditEvents.occurredAt, f.to));
  if (f.before) {
    const b = f.before;
    where.push(
      sql`(${auditEvents.occurredAt}, ${auditEvents.divisionCode}, ${auditEvents.seq}) < (${b.occurredAt.toISOString()}::timestamptz, ${b.divisionCode}, ${b.seq})`,
    );
  }
  return tx
    .select()
    .from(auditEvents)
    .where(and(...where))
    .orderBy(desc(auditEvents.occurredAt), desc(auditEvents.divisionCode), desc(auditEvents.seq))
    .limit(f.limit);
}

export interface ChainVerification {
  division: number;
  events: number;
  valid: boolean;
  /** The first record that does not verify, and why. */
  brokenAt?: { seq: number; reason: 'gap' | 'prev_hash' | 'hash' | 'head' } | undefined;
  headHash: string;
}

/**
 * Recomputes a division's chain page by page, up to the head. The highest stored seq is read before the
 * head, so records committed meanwhile never look like tampering, while records beyond the head (or
 * without one) do. Only the owner can move a head; the API role cannot.
 */
export async function verifyAuditChain(
  tx: Tx,
  division: number,
  options: { pageSize?: number; signal?: AbortSignal } = {},
): Promise<ChainVerification> {
  const pageSize = options.pageSize ?? 2_000;
  const [last] = await tx
    .select({ seq: sql<string | number | null>`max(${auditEvents.seq})` })
    .from(auditEvents)
    .where(eq(auditEvents.divisionCode, division));
  const stored = Number(last?.seq ?? 0);
  const [head] = await tx.select().from(auditHeads).where(eq(auditHeads.divisionCode, division));
  const until = head?.seq ?? 0;
  let prev = GENESIS_HASH;
  let expected = 1;
  const broken = (seq: number, reason: NonNullable<ChainVerification['brokenAt']>['reason']) => ({
    division,
    events: expected - 1,
    valid: false,
    brokenAt: { seq, reason },
    headHash: prev,
  });
  if (stored > until) return broken(until + 1, 'head');
  while (expected <= until) {
    options.signal?.throwIfAborted();
    const page = await tx
      .select()
      .from(auditEvents)
      .where(
        and(
          eq(auditEvents.divisionCode, division),
          gte(auditEvents.seq, expected),
          lte(auditEvents.seq, until),
        ),
      )
      .orderBy(asc(auditEvents.seq))
      .limit(pageSize);
    for (const e of page) {
      if (e.seq !== expected) return broken(expected, 'gap');
      if (e.prevHash !== prev) return broken(e.seq, 'prev_hash');
      if (auditHash(prev, e) !== e.hash) return broken(e.seq, 'hash');
      prev = e.hash;
      expected += 1;
    }
    if (page.length < pageSize) break;
  }
  if (expected - 1 !== until) return broken(expected, 'gap');
  if (head && head.hash !== prev) return broken(until, 'head');
  return { division, events: until, valid: true, headHash: prev };
}

/** Divisions inside `within` that have audit records or a head (RLS limits what is seen). */
export async function auditedDivisions(tx: Tx, within: { lo: number; hi: number }): Promise<number[]> {
  const rows = rowsOf<{ d: number }>(
    await tx.execute(sql`
      SELECT division_code AS d FROM audit_heads WHERE division_code BETWEEN ${within.lo} AND ${within.hi}
      UNION
      SELECT DISTINCT division_code FROM audit_events WHERE division_code BETWEEN ${within.lo} AND ${within.hi}
      ORDER BY 1`),
  );
  return rows.map((r) => r.d);
}
