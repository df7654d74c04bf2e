import { type Database, insertJob, type Job, type Sealer, type Tx } from '@houfu/db';
import type { Logger } from '../lib/logger.js';
import { subsidyBatchHandler } from '../routes/disbursements/disbursements.job.js';
import { registryImportHandler } from '../routes/imports/imports.job.js';
import { createJobRunner, type JobRunner, type JobRunnerOptions } from './runner.js';

export * from './runner.js';

/** The runner with every job kind the API knows (`registry.import`, `subsidy.batch`). */
export function createAppJobRunner(
  deps: { db: Database; sealer: Sealer; logger: Logger; now: () => Date },
  options: Omit<JobRunnerOptions, 'db' | 'logger' | 'handlers'> = {},
): JobRunner {
  return createJobRunner({
    ...options,
    db: deps.db,
    logger: deps.logger,
    handlers: [
      registryImportHandler({ sealer: deps.sealer, now: deps.now }),
      subsidyBatchHandler({ now: deps.now }),
    ],
  });
}

/** Enqueues a job in the caller's transaction; call the runner's `kick()` afterwards. */
export function enqueueJob(
  tx: Tx,
  job: {
    division: number;
    kind: string;
    params: Record<string, unknown> & { resource: string };
    actor: { sub: string; kind: Job['createdByKind'] };
    /** The runner's named queue, if it has one. */
    queue?: string | undefined;
  },
): Promise<Job> {
  return insertJob(tx, {
    divisionCode: job.division,
    kind: job.kind,
    params: job.queue ? { ...job.params, queue: job.queue } : job.params,
    createdBy: job.actor.sub,
    createdByKind: job.actor.kind,
  });
}
