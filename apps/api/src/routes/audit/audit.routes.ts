import { z } from '@hono/zod-openapi';
import { pageQuery, pageSchema } from '../../lib/pagination.js';
import { divisionCodeParam, plainText } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';

/** An RFC 3339 time with its offset, to the nanosecond at most (35 characters). */
const timestamp = z.iso.datetime({ offset: true }).max(35);

const division = divisionCodeParam.openapi({
  description: 'One division’s chain (within your scope).',
  example: 420581,
});

export const AuditEventSchema = z
  .object({
    division_code: z.number().int().openapi({ example: 420581 }),
    seq: z.number().int().openapi({ example: 12 }),
    occurred_at: z.string().openapi({ example: '2026-11-22T02:10:00.000Z' }),
    actor: z.object({
      sub: z.string().openapi({ example: 'user:zhang.wei' }),
      kind: z.enum(['user', 'client', 'system']),
      division: z.number().int().openapi({ example: 420581 }),
    }),
    action: z.string().openapi({ example: 'locality.update' }),
    entity_type: z.string().openapi({ example: 'locality' }),
    entity_id: z.string().openapi({ example: '420581100201' }),
    changes: z
      .record(z.string(), z.object({ old: z.unknown(), new: z.unknown() }))
      .openapi({ example: { name: { old: '白水村', new: '白水港村' } } }),
    request_id: z.string().nullable(),
    outcome: z.enum(['success', 'failure']),
    prev_hash: z.string().openapi({ example: 'a3f1…' }),
    hash: z.string().openapi({ example: '9c0d…' }),
  })
  .openapi('AuditEvent', {
    description: '审计记录: one mutation, chained to the previous record of its division by hash.',
  });

export const listAuditEvents = protectedRoute('audit:read', {
  method: 'get',
  path: '/v1/audit-events',
  operationId: 'listAuditEvents',
  tags: ['audit'],
  summary: 'List audit events',
  description:
    'Every mutation in your division and below, newest first. Filter by division, entity, action, actor and time range (`from` inclusive, `to` exclusive).',
  request: {
    query: z.object({
      division: division.optional(),
      entity_type: plainText(50).optional().openapi({ example: 'locality' }),
      entity_id: plainText(100).optional().openapi({ example: '420581100201' }),
      action: plainText(100).optional().openapi({ example: 'locality.update' }),
      actor: plainText(200).optional().openapi({ description: 'Actor subject.', example: 'user:zhang.wei' }),
      from: timestamp.optional().openapi({ example: '2026-01-01T00:00:00Z' }),
      to: timestamp.optional().openapi({ example: '2027-01-01T00:00:00Z' }),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(AuditEventSchema, 'AuditEventPage'), 'A page of audit events.') },
});

export const ChainVerificationSchema = z
  .object({
    division_code: z.number().int().openapi({ example: 420581 }),
    events: z.number().int().openapi({ example: 128 }),
    valid: z.boolean(),
    broken_at: z
      .object({ seq: z.number().int(), reason: z.enum(['gap', 'prev_hash', 'hash', 'head']) })
      .nullable()
      .openapi({ description: 'The first record that fails, and why; null when the chain is intact.' }),
    head_hash: z.string(),
  })
  .openapi('ChainVerification');

export const verifyAuditChains = protectedRoute('audit:verify', {
  method: 'get',
  path: '/v1/audit-events/verification',
  operationId: 'verifyAuditChains',
  tags: ['audit'],
  summary: 'Verify audit hash chains',
  description:
    'Recomputes the hash chain of one division (or of every division in your scope that has records; with more than 500 of them, name one with `division`) and reports the first record that was altered, removed or inserted around the API.',
  request: { query: z.object({ division: division.optional() }) },
  responses: {
    200: json(
      z.object({ valid: z.boolean(), chains: z.array(ChainVerificationSchema) }).openapi('AuditVerification'),
      'The verification of each chain.',
    ),
    404: problem('The division is outside your scope.'),
  },
});
