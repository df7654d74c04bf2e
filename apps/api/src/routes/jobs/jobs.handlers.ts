import type { RouteHandler } from '@hono/zod-openapi';
import { getJob as findJob, type Job } from '@houfu/db';
import { isoTimestamp } from '../../lib/dates.js';
import { ApiError } from '../../lib/problem.js';
import type { AppEnv } from '../../lib/types.js';
import type { getJob } from './jobs.routes.js';

export function toJob(job: Job) {
  const done = Number(job.progressDone);
  const total = job.progressTotal === null ? null : Number(job.progressTotal);
  const percent =
    job.status === 'succeeded'
      ? 100
      : total && total > 0
        ? Math.min(100, Math.floor((done * 100) / total))
        : null;
  const resource = typeof job.params.resource === 'string' ? job.params.resource : null;
  return {
    id: job.id,
    county_code: job.divisionCode,
    kind: job.kind,
    status: job.status,
    phase: job.phase,
    progress: { done, total, percent },
    attempts: job.attempts,
    created_at: isoTimestamp(job.createdAt),
    started_at: isoTimestamp(job.startedAt),
    finished_at: isoTimestamp(job.finishedAt),
    result: job.result ?? null,
    error: job.error ?? null,
    links: { self: `/v1/jobs/${job.id}`, resource },
  };
}

export const get: RouteHandler<typeof getJob, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const job = await findJob(c.var.tx, id);
  if (!job) throw new ApiError('not_found', `Job ${id} was not found.`);
  return c.json(toJob(job), 200);
};
