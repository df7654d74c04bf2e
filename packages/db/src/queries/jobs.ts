import { and, eq, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { jobs } from '../schema.js';
import { rowsOf } from '../tenant.js';

export type Job = typeof jobs.$inferSelect;
export type NewJob = Pick<Job, 'divisionCode' | 'kind' | 'params' | 'createdBy' | 'createdByKind'>;

/**
 * Who may still write a running job: the runner that claimed it, identified by the attempt number
 * its claim produced. Every write after the claim is conditional on it (a fencing token), so a
 * runner whose lease ran out and was taken over cannot write over its successor.
 */
export interface JobFence {
  divisionCode: number;
  id: string;
  attempts: number;
}

const fenced = (f: JobFence) =>
  and(
    eq(jobs.divisionCode, f.divisionCode),
    eq(jobs.id, f.id),
    eq(jobs.attempts, f.attempts),
    eq(jobs.status, 'running'),
  );

const leaseUntil = (leaseMs: number) => sql`now() + make_interval(secs => ${leaseMs / 1000})`;

export async function insertJob(tx: Tx, row: NewJob): Promise<Job> {
  const [created] = await tx.insert(jobs).values(row).returning();
  if (!created) throw new Error('job not inserted');
  return created;
}

/** One job by id, as far as the transaction's scope sees (RLS): another tenant's job is undefined. */
export async function getJob(tx: Tx, id: string): Promise<Job | undefined> {
  const [row] = await tx.select().from(jobs).where(eq(jobs.id, id));
  return row;
}

/**
 * Claims the oldest job of one of `kinds` that is queued or whose runner's lease has run out, and
 * leases it for `leaseMs`: the attempt count goes up (the new fence), `started_at` is set once.
 * `FOR UPDATE SKIP LOCKED` skips a job another transaction holds (a step saving its progress).
 * Run it under a scope that covers every division whose jobs this runner serves (the nation).
 * A named queue keeps runners apart that share one database (each test app has its own).
 *
 * One job per county and kind at a time: a job is not claimed while another job of its division and
 * kind is `running` under an unexpired lease (a live claim, or one handed back with a back-off, which
 * keeps its place). Runners (and the worker loops of one runner) run jobs concurrently, but two jobs
 * of one county and kind never overlap — e.g. two imports of a county: each checks its rows against
 * the registry before applying them, and the apply step re-checks only part of that (a second 户主 of
 * a household both files add, for one, is not), and two batches of a county compute from the same
 * persons. Jobs of other counties, or of another kind, are not held back (nor jobs of another named
 * queue: test files sharing a database). The check alone would be a race (two claims in READ
 * COMMITTED each see the other's job still queued), so the claims of a queue serialise on a
 * transaction-level advisory lock, held only for this short transaction: the claim statement then
 * starts after the previous claim committed and sees its job running.
 */
export async function claimJob(
  tx: Tx,
  kinds: readonly string[],
  leaseMs: number,
  /** Only jobs enqueued on this named queue (`params.queue`); null: jobs without one (production). */
  queue: string | null = null,
): Promise<Job | undefined> {
  if (kinds.length === 0) return undefined;
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(hashtextextended(${`houfu.jobs.claim:${queue ?? ''}`}, 0))`,
  );
  const [row] = rowsOf<{ division_code: number; id: string }>(
    await tx.execute(sql`
      UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = ${leaseUntil(leaseMs)},
             started_at = coalesce(started_at, now()), updated_at = now()
      WHERE (division_code, id) = (
        SELECT j.division_code, j.id FROM jobs j
        WHERE (j.status = 'queued' OR (j.status = 'running' AND j.lease_until < now()))
          AND j.kind = ANY (${sql.param([...kinds])}::text[])
          AND (j.params ->> 'queue') IS NOT DISTINCT FROM ${queue}::text
          AND NOT EXISTS (
            SELECT 1 FROM jobs o
            WHERE o.division_code = j.division_code AND o.kind = j.kind AND o.id <> j.id
              AND o.status = 'running' AND o.lease_until >= now()
              AND (o.params ->> 'queue') IS NOT DISTINCT FROM ${queue}::text)
        ORDER BY j.created_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED)
      RETURNING division_code, id`),
  );
  if (!row) return undefined;
  const [job] = await tx
    .select()
    .from(jobs)
    .where(and(eq(jobs.divisionCode, Number(row.division_code)), eq(jobs.id, row.id)));
  return job;
}

/** Extends the lease; false when the job is no longer this runner's (taken over, finished). */
export async function renewJobLease(tx: Tx, fence: JobFence, leaseMs: number): Promise<boolean> {
  const updated = await tx
    .update(jobs)
    .set({ leaseUntil: leaseUntil(leaseMs), updatedAt: sql`now()` })
    .where(fenced(fence))
    .returning({ id: jobs.id });
  return updated.length === 1;
}

export interface JobProgress {
  phase?: string | undefined;
  progressDone?: number | undefined;
  progressTotal?: number | null | undefined;
  checkpoint?: Record<string, unknown> | undefined;
}

/**
 * Records progress and the checkpoint, and extends the lease, in the caller's transaction (the one
 * that did the work the checkpoint describes); false when the job is no longer this runner's.
 */
export async function saveJobProgress(
  tx: Tx,
  fence: JobFence,
  progress: JobProgress,
  leaseMs: number,
): Promise<boolean> {
  const updated = await tx
    .update(jobs)
    .set({
      ...(progress.phase !== undefined ? { phase: progress.phase } : {}),
      ...(progress.progressDone !== undefined ? { progressDone: progress.progressDone } : {}),
      ...(progress.progressTotal !== undefined ? { progressTotal: progress.progressTotal } : {}),
      ...(progress.checkpoint !== undefined ? { checkpoint: progress.checkpoint } : {}),
      leaseUntil: leaseUntil(leaseMs),
      updatedAt: sql`now()`,
    })
    .where(fenced(fence))
    .returning({ id: jobs.id });
  return updated.length === 1;
}

/** Ends a job: succeeded with a result, or failed with an error; false when it is not this runner's. */
export async function finishJob(
  tx: Tx,
  fence: JobFence,
  outcome:
    | { status: 'succeeded'; result: Record<string, unknown> }
    | { status: 'failed'; error: { code: string; message: string } },
): Promise<boolean> {
  const updated = await tx
    .update(jobs)
    .set({
      status: outcome.status,
      ...(outcome.status === 'succeeded' ? { result: outcome.result } : { error: outcome.error }),
      leaseUntil: null,
      finishedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(fenced(fence))
    .returning({ id: jobs.id });
  return updated.length === 1;
}

/**
 * Hands a running job back without finishing it: any runner may claim it again after `delayMs`
 * (0: at once, e.g. on shutdown; more after a transient failure, as a back-off).
 *
 * `handBack`: a clean hand-back (shutdown between steps) gives the claim's attempt back, so that
 * deploys during a long job do not use up its attempts; only claims that failed or were lost count.
 * The caller must write nothing more under its fence afterwards: the next claim gets the same number.
 */
export async function releaseJob(
  tx: Tx,
  fence: JobFence,
  delayMs: number,
  options: { handBack?: boolean } = {},
): Promise<boolean> {
  const updated = await tx
    .update(jobs)
    .set({
      leaseUntil: leaseUntil(delayMs),
      updatedAt: sql`now()`,
      ...(options.handBack ? { attempts: sql`${jobs.attempts} - 1` } : {}),
    })
    .where(fenced(fence))
    .returning({ id: jobs.id });
  return updated.length === 1;
}
