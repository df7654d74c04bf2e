/**
 * The background job runner 后台任务. Jobs are rows of `jobs` (division = the owner county); a runner
 * in the API process claims them with `FOR UPDATE SKIP LOCKED` under the national scope — the only
 * thing it does under that scope — and runs each in transactions scoped to the job's division.
 *
 * Concurrency: a started runner keeps up to `concurrency` worker loops (the server passes
 * HOUFU_JOB_CONCURRENCY, default 2; the option alone defaults to 1), each claiming and running one
 * job after another, so that e.g. the staging (Node CPU) of one county's import overlaps another
 * county's database work. A worker that claims a job starts another loop while fewer are running; a
 * loop that finds nothing ends, and a poll or `kick` starts one again. Two jobs of one county and
 * kind never run at once, in this process or across processes: `claimJob` skips them while one is
 * running (see there). `stop` hands every running job back. `runUntilIdle` stays sequential, one job
 * after another, whatever `concurrency` says.
 *
 * Resumability: a handler does its work in steps; each step's transaction also saves the job's
 * progress and checkpoint, conditional on the claim's attempt number (a fencing token), so the work
 * and the checkpoint that describes it commit together. A process killed at any point leaves the last
 * committed checkpoint; when its lease runs out, the next claim resumes from there. A heartbeat
 * extends the lease while a step runs.
 */
import {
  claimJob,
  type Database,
  finishJob,
  type Job,
  type JobFence,
  type JobProgress,
  releaseJob,
  renewJobLease,
  saveJobProgress,
  type Tx,
  withDivision,
  withTenant,
} from '@houfu/db';
import { NATION, scopeOf, scrubSensitive } from '@houfu/domain';
import { sql } from 'drizzle-orm';
import { databaseCode } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

/** A failure the handler names: the job ends `failed` with this `{code, message}` and is not retried. */
export class JobFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown by a test hook to drop everything at that point, as a SIGKILL would. */
export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash');
  }
}

class LeaseLost extends Error {
  constructor() {
    super('the job lease was lost (taken over or finished elsewhere)');
  }
}

class Stopping extends Error {
  constructor() {
    super('the runner is stopping');
  }
}

export interface JobContext {
  /** The job as claimed: `params`, `checkpoint` (where to resume), `attempts`. */
  readonly job: Job;
  readonly db: Database;
  /** Aborted when the runner stops or the lease is lost; `step` checks it before each transaction. */
  readonly signal: AbortSignal;
  /**
   * Runs `work` in one transaction in the job's division (long statement timeout) and saves the
   * progress and checkpoint in the same transaction: both commit or neither.
   */
  step<T>(work: (tx: Tx) => Promise<T>, progress: JobProgress | ((result: T) => JobProgress)): Promise<T>;
  /** Like `step`, and the job ends `succeeded` with the result `work` returns — in the same transaction. */
  complete(work: (tx: Tx) => Promise<Record<string, unknown>>, progress?: JobProgress): Promise<void>;
  /** A read-only transaction in the job's division (nothing saved). */
  read<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}

export interface JobHandler {
  kind: string;
  /** Does the work in steps and ends with `ctx.complete`, or throws a {@link JobFailure}. */
  run(ctx: JobContext): Promise<void>;
  /** Written in the transaction that marks the job failed (e.g. the import's own status). */
  onFailure?(tx: Tx, job: Job, error: { code: string; message: string }): Promise<void>;
}

export interface JobHooks {
  /** Inside each step's transaction, after the work and before the checkpoint is saved and committed. */
  beforeCommit?(job: Job, progress: JobProgress): void | Promise<void>;
  /** After each step's commit. */
  afterCommit?(job: Job, progress: JobProgress): void | Promise<void>;
}

export interface JobRunnerOptions {
  db: Database;
  logger: Logger;
  handlers: readonly JobHandler[];
  /** How long a claim lasts without a heartbeat (ms). */
  leaseMs?: number;
  /** Fallback poll interval when idle (ms). */
  pollMs?: number;
  /**
   * Claims after which a job that keeps failing unexpectedly (or killing its process) is failed. A
   * claim handed back cleanly on shutdown does not count.
   */
  maxAttempts?: number;
  /** statement_timeout and lock_timeout inside job transactions (ms); requests keep their short one. */
  statementTimeoutMs?: number;
  /**
   * A named queue: the runner claims only jobs enqueued with it (`params.queue`). Absent in
   * production; each test app uses its own, since test files share one PostgreSQL database.
   */
  queue?: string;
  /** How many jobs a started runner runs at once (1–16; default 1). `runUntilIdle` runs one at a time. */
  concurrency?: number;
}

export interface JobRunner {
  /** The queue this runner serves (enqueue with it), if named. */
  readonly queue: string | undefined;
  /**
   * Starts polling: picks up queued and lease-expired jobs now and after every `kick`, up to
   * `concurrency` of them at once.
   */
  start(): void;
  /** Stops claiming, lets every running step finish, hands every running job back for the next runner. */
  stop(): Promise<void>;
  /**
   * A job was enqueued: look soon (the enqueuing transaction may still be committing), with a new
   * worker loop if fewer than `concurrency` are running.
   */
  kick(): void;
  /**
   * Runs jobs one after another until none is left to claim (deterministic, for tests and the CLI).
   * With hooks, a {@link SimulatedCrash} thrown by one ends the run there: `crashed` is true.
   */
  runUntilIdle(options?: { hooks?: JobHooks }): Promise<{ ran: number; crashed: boolean }>;
}

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { db, logger } = options;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 2_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const concurrency = Math.min(16, Math.max(1, Math.trunc(options.concurrency ?? 1)));
  const statementTimeoutMs = options.statementTimeoutMs ?? 600_000;
  const handlers = new Map(options.handlers.map((h) => [h.kind, h]));
  const kinds = [...handlers.keys()];

  let started = false;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  /** The worker loops running (at most `concurrency`). */
  const workers = new Set<Promise<void>>();
  /** One per job being executed (by a worker or `runUntilIdle`): `stop` aborts them all. */
  const controllers = new Set<AbortController>();

  async function jobTx<T>(job: Job, work: (tx: Tx) => Promise<T>): Promise<T> {
    return withDivision(db, job.divisionCode, async (tx) => {
      await tx.execute(sql.raw(`SET LOCAL statement_timeout = ${Math.trunc(statementTimeoutMs)}`));
      await tx.execute(sql.raw(`SET LOCAL lock_timeout = ${Math.trunc(statementTimeoutMs)}`));
      return work(tx);
    });
  }

  async function fail(
    job: Job,
    fence: JobFence,
    handler: JobHandler,
    failure: { code: string; message: string },
  ) {
    // A backstop: whatever a handler put in its message, no ID or account number is stored in clear.
    const error = { code: failure.code, message: scrubSensitive(failure.message) };
    try {
      await jobTx(job, async (tx) => {
        await handler.onFailure?.(tx, job, error);
        if (!(await finishJob(tx, fence, { status: 'failed', error }))) throw new LeaseLost();
      });
      logger.warn({ job: job.id, kind: job.kind, code: error.code }, 'job failed');
    } catch (e) {
      if (!(e instanceof LeaseLost)) throw e;
    }
  }

  async function execute(job: Job, hooks: JobHooks): Promise<void> {
    const handler = handlers.get(job.kind);
    if (!handler) return;
    const fence: JobFence = { divisionCode: job.divisionCode, id: job.id, attempts: job.attempts };
    if (job.attempts > maxAttempts) {
      await fail(job, fence, handler, {
        code: 'attempts_exhausted',
        message: `The job was interrupted ${maxAttempts} times without finishing; nothing was applied.`,
      });
      return;
    }
    const controller = new AbortController();
    controllers.add(controller);
    if (stopping) controller.abort(new Stopping());
    let beat: Promise<void> | undefined;
    const heartbeat = setInterval(
      () => {
        beat ??= withDivision(db, job.divisionCode, (tx) => renewJobLease(tx, fence, leaseMs))
          .then((ok) => {
            if (!ok) controller.abort(new LeaseLost());
          })
          .catch((e) =>
            logger.warn({ job: job.id, err: { message: (e as Error).message } }, 'job heartbeat failed'),
          )
          .finally(() => {
            beat = undefined;
          });
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    heartbeat.unref();

    // The job's transactions under way: a clean hand-back waits for them (see `releaseJob`).
    const inFlight = new Set<Promise<unknown>>();
    const tracked = <T>(p: Promise<T>): Promise<T> => {
      inFlight.add(p);
      p.then(
        () => inFlight.delete(p),
        () => inFlight.delete(p),
      );
      return p;
    };

    let completed = false;
    const checkSignal = () => {
      if (controller.signal.aborted) throw controller.signal.reason;
    };
    const ctx: JobContext = {
      job,
      db,
      signal: controller.signal,
      async step(work, progress) {
        checkSignal();
        let saved: JobProgress = {};
        const result = await tracked(
          jobTx(job, async (tx) => {
            const r = await work(tx);
            saved = typeof progress === 'function' ? progress(r) : progress;
            await hooks.beforeCommit?.(job, saved);
            if (!(await saveJobProgress(tx, fence, saved, leaseMs))) throw new LeaseLost();
            return r;
          }),
        );
        if (saved.checkpoint) job.checkpoint = saved.checkpoint;
        await hooks.afterCommit?.(job, saved);
        return result;
      },
      async complete(work, progress = {}) {
        checkSignal();
        await tracked(
          jobTx(job, async (tx) => {
            const result = await work(tx);
            await hooks.beforeCommit?.(job, progress);
            if (!(await saveJobProgress(tx, fence, progress, leaseMs))) throw new LeaseLost();
            if (!(await finishJob(tx, fence, { status: 'succeeded', result }))) throw new LeaseLost();
          }),
        );
        completed = true;
        await hooks.afterCommit?.(job, progress);
      },
      read: (work) => tracked(jobTx(job, work)),
    };

    try {
      await handler.run(ctx);
      if (!completed) throw new Error(`the ${job.kind} handler returned without completing the job`);
      logger.info({ job: job.id, kind: job.kind, attempts: job.attempts }, 'job succeeded');
    } catch (error) {
      if (error instanceof SimulatedCrash) throw error;
      const reason = controller.signal.aborted ? controller.signal.reason : undefined;
      if (error instanceof LeaseLost || reason instanceof LeaseLost) {
        logger.warn({ job: job.id }, 'job lease lost; another runner continues it');
      } else if (error instanceof Stopping || reason instanceof Stopping) {
        // A clean hand-back gives the attempt back, so the next claim reuses its number as the fence:
        // nothing of this claim (heartbeat, a transaction still running) may write after the release.
        clearInterval(heartbeat);
        await beat;
        await Promise.allSettled([...inFlight]);
        await jobTx(job, (tx) => releaseJob(tx, fence, 0, { handBack: true }));
        logger.info({ job: job.id }, 'job handed back on shutdown');
      } else if (error instanceof JobFailure) {
        await fail(job, fence, handler, { code: error.code, message: error.message });
      } else {
        const code = databaseCode(error);
        logger.error(
          {
            job: job.id,
            kind: job.kind,
            attempts: job.attempts,
            err: { message: (error as Error).message, code },
          },
          'job error',
        );
        if (job.attempts >= maxAttempts) {
          await fail(job, fence, handler, {
            code: 'internal_error',
            message: `The job stopped with an unexpected error ${job.attempts} times; nothing was applied.`,
          });
        } else {
          // A database outage or a bug alike: try again later from the last checkpoint, backing off.
          const delay = Math.min(60_000, 1_000 * 2 ** (job.attempts - 1));
          await jobTx(job, (tx) => releaseJob(tx, fence, delay)).catch(() => undefined);
        }
      }
    } finally {
      clearInterval(heartbeat);
      await beat;
      controllers.delete(controller);
    }
  }

  const claim = () =>
    withTenant(db, scopeOf(NATION), (tx) => claimJob(tx, kinds, leaseMs, options.queue ?? null));

  async function runOne(hooks: JobHooks): Promise<boolean> {
    const job = await claim();
    if (!job) return false;
    await execute(job, hooks);
    return true;
  }

  function schedule(delay: number) {
    if (!started || stopping) return;
    clearTimeout(timer);
    timer = setTimeout(tick, delay);
    timer.unref();
  }

  /** Starts a worker loop if fewer than `concurrency` run: it claims and runs jobs until none is left. */
  function tick() {
    if (stopping || workers.size >= concurrency) return;
    const worker: Promise<void> = (async () => {
      try {
        while (!stopping) {
          const job = await claim();
          if (!job) break;
          // There may be more work: let another loop look for it while this one runs the job.
          tick();
          await execute(job, {});
        }
      } catch (e) {
        logger.error({ err: { message: (e as Error).message } }, 'job runner error');
      }
    })().finally(() => {
      workers.delete(worker);
      // Poll for what could not be claimed now (a back-off running out, a job of a busy county).
      schedule(pollMs);
    });
    workers.add(worker);
  }

  return {
    queue: options.queue,
    start() {
      if (started) return;
      started = true;
      stopping = false;
      schedule(0);
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      for (const controller of controllers) controller.abort(new Stopping());
      // A loop may still be claiming: the job it gets is aborted at once (see `execute`).
      while (workers.size > 0) await Promise.allSettled([...workers]);
      started = false;
    },
    kick() {
      if (started && workers.size < concurrency) schedule(0);
    },
    async runUntilIdle(opts = {}) {
      while (workers.size > 0) await Promise.allSettled([...workers]);
      let ran = 0;
      try {
        while (await runOne(opts.hooks ?? {})) ran += 1;
      } catch (e) {
        if (e instanceof SimulatedCrash) return { ran: ran + 1, crashed: true };
        throw e;
      }
      return { ran, crashed: false };
    },
  };
}
