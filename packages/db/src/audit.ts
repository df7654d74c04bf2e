import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { and, asc, desc, eq, gt, gte, lt, lte, type SQL, sql } from 'drizzle-orm';
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
 * Appends one record to its division's chain, in the caller's transaction. The head row's lock
 * (taken by the upsert) serialises writers within a division until commit, so the chain never forks.
 */
export async function appendAudit(tx: Tx, input: AuditInput): Promise<AuditEvent> {
  const [head] = rowsOf<{ seq: string | number; hash: string }>(
    await tx.execute(sql`
      INSERT INTO audit_heads (division_code, seq, hash) VALUES (${input.division}, 1, ${GENESIS_HASH})
      ON CONFLICT (division_code) DO UPDATE SET seq = audit_heads.seq + 1
      RETURNING seq, hash`),
  );
  if (!head) throw new Error('audit head not returned');
  const record: Hashed = {
    divisionCode: input.division,
    seq: Number(head.seq),
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
  const event: AuditEvent = { ...record, prevHash: head.hash, hash: auditHash(head.hash, record) };
  await tx.update(auditHeads).set({ hash: event.hash }).where(eq(auditHeads.divisionCode, input.division));
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
 * Recomputes a division's chain, page by page, up to the head it reads first: records committed after
 * that read are left for the next verification, so concurrent appends never look like tampering.
 */
export async function verifyAuditChain(
  tx: Tx,
  division: number,
  pageSize = 2_000,
): Promise<ChainVerification> {
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
  for (;;) {
    const page = await tx
      .select()
      .from(auditEvents)
      .where(
        and(
          eq(auditEvents.divisionCode, division),
          gt(auditEvents.seq, expected - 1),
          // Without a head, any record at all is evidence of tampering: look for one.
          head ? lte(auditEvents.seq, until) : undefined,
        ),
      )
      .orderBy(asc(auditEvents.seq))
      .limit(pageSize);
    for (const e of page) {
      if (!head) return broken(e.seq, 'head');
      if (e.seq !== expected) return broken(expected, 'gap');
      if (e.prevHash !== prev) return broken(e.seq, 'prev_hash');
      if (auditHash(prev, e) !== e.hash) return broken(e.seq, 'hash');
      prev = e.hash;
      expected += 1;
    }
    if (page.length < pageSize) break;
  }
  if (expected - 1 !== until || (head && head.hash !== prev)) return broken(expected, 'head');
  return { division, events: until, valid: true, headHash: prev };
}

/** Divisions with a chain inside the caller's scope (RLS limits what is seen). */
export async function auditedDivisions(tx: Tx, within?: { lo: number; hi: number }): Promise<number[]> {
  const rows = await tx
    .select({ d: auditHeads.divisionCode })
    .from(auditHeads)
    .where(
      within
        ? and(gte(auditHeads.divisionCode, within.lo), lte(auditHeads.divisionCode, within.hi))
        : undefined,
    )
    .orderBy(asc(auditHeads.divisionCode));
  return rows.map((r) => r.d);
}
