/**
 * The `subsidy.batch` job: computes a payment batch in ONE transaction (lines, exclusions, totals,
 * hash, `draft`, audit record, and the job's end), so that a process killed at any point leaves
 * either no lines or the complete batch; the next claim after the lease runs out simply does it again.
 */
import { z } from 'zod';
import type { JobHandler } from '../../jobs/runner.js';
import { BATCH_JOB_KIND, computeBatch, failBatch } from './disbursements.service.js';

export const batchJobParams = z.object({
  batch_id: z.uuid(),
  resource: z.string(),
  actor: z.object({
    sub: z.string(),
    kind: z.enum(['user', 'client', 'system']),
    division: z.number().int(),
  }),
  request_id: z.string().nullable(),
});

export function subsidyBatchHandler(deps: { now: () => Date }): JobHandler {
  return {
    kind: BATCH_JOB_KIND,
    async run(ctx) {
      const params = batchJobParams.parse(ctx.job.params);
      await ctx.complete(
        (tx) =>
          computeBatch(
            { tx, actor: params.actor, requestId: params.request_id, now: deps.now() },
            params.batch_id,
          ),
        { phase: 'completed' },
      );
    },
    async onFailure(tx, job) {
      const params = batchJobParams.safeParse(job.params);
      if (params.success) await failBatch(tx, params.data.batch_id);
    },
  };
}
