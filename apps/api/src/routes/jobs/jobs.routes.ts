import { z } from '@hono/zod-openapi';
import { idParam } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';

export const JobSchema = z
  .object({
    id: z.uuid(),
    county_code: z
      .number()
      .int()
      .openapi({ description: 'The division that owns the job.', example: 420581 }),
    kind: z.string().openapi({ example: 'registry.import' }),
    status: z.enum(['queued', 'running', 'succeeded', 'failed']),
    phase: z.string().nullable().openapi({
      description: 'Step within the job, e.g. staging, checking, applying, completed for an import.',
      example: 'staging',
    }),
    progress: z
      .object({
        done: z.number().int(),
        total: z.number().int().nullable(),
        percent: z.number().int().nullable(),
      })
      .openapi({
        description:
          'Progress of the current phase (an import counts file bytes while staging, rows afterwards); percent is null while the total is unknown.',
      }),
    attempts: z.number().int().openapi({ description: 'How many times a runner has claimed the job.' }),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    result: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'What the job produced.' }),
    error: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .openapi({ description: 'Why the job failed; nothing it was doing was applied.' }),
    links: z.object({
      self: z.string(),
      resource: z
        .string()
        .nullable()
        .openapi({ example: '/v1/imports/0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11' }),
    }),
  })
  .openapi('Job', { description: 'A background job (registry import; later payment batches).' });

export const getJob = protectedRoute('jobs:read', {
  method: 'get',
  path: '/v1/jobs/{id}',
  operationId: 'getJob',
  tags: ['jobs'],
  summary: 'Get a background job',
  description:
    'Status and progress of a job of a division in your scope; `links.resource` is what it works on.',
  request: { params: idParam },
  responses: {
    200: json(JobSchema, 'The job.'),
    404: problem('No such job in your scope.'),
  },
});
