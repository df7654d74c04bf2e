import type { RouteHandler } from '@hono/zod-openapi';
import {
  type AuditEvent,
  auditedDivisions,
  listAuditEvents as queryAudit,
  verifyAuditChain,
} from '@houfu/db';
import { isWithin, scopeOf } from '@houfu/domain';
import { z } from 'zod';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import { ApiError } from '../../lib/problem.js';
import type { AppEnv } from '../../lib/types.js';
import type { listAuditEvents, verifyAuditChains } from './audit.routes.js';

const MAX_CHAINS = 500;

const toEvent = (e: AuditEvent) => ({
  division_code: e.divisionCode,
  seq: e.seq,
  occurred_at: e.occurredAt.toISOString(),
  actor: { sub: e.actorSub, kind: e.actorKind, division: e.actorDivision },
  action: e.action,
  entity_type: e.entityType,
  entity_id: e.entityId,
  changes: e.changes as Record<string, { old: unknown; new: unknown }>,
  request_id: e.requestId,
  outcome: e.outcome,
  prev_hash: e.prevHash,
  hash: e.hash,
});

const cursorSchema = z.tuple([z.iso.datetime(), z.number().int(), z.number().int()]);

export const list: RouteHandler<typeof listAuditEvents, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const before = decodeCursor(q.cursor, cursorSchema);
  const rows = await queryAudit(c.var.tx, {
    division: q.division,
    entityType: q.entity_type,
    entityId: q.entity_id,
    action: q.action,
    actorSub: q.actor,
    from: q.from ? new Date(q.from) : undefined,
    to: q.to ? new Date(q.to) : undefined,
    before: before ? { occurredAt: new Date(before[0]), divisionCode: before[1], seq: before[2] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toEvent, (e) => [e.occurredAt.toISOString(), e.divisionCode, e.seq]),
    200,
  );
};

export const verify: RouteHandler<typeof verifyAuditChains, AppEnv> = async (c) => {
  const { division } = c.req.valid('query');
  const { tx, principal } = c.var;
  if (division !== undefined && !isWithin(division, principal.division)) {
    throw new ApiError('not_found', `Division ${division} is not within your scope.`);
  }
  const divisions =
    division !== undefined ? [division] : await auditedDivisions(tx, scopeOf(principal.division));
  if (divisions.length > MAX_CHAINS) {
    throw new ApiError(
      'validation_failed',
      `Your scope has ${divisions.length} audited divisions; verify them one at a time.`,
      [
        {
          field: 'query.division',
          message: `Required when more than ${MAX_CHAINS} divisions have records`,
          code: 'too_many',
        },
      ],
    );
  }
  // Stop between pages when the client goes away or the request's time is nearly up: the database's
  // statement timeout does not stop a loop of short statements.
  const signal = AbortSignal.any([
    c.req.raw.signal,
    AbortSignal.timeout(Math.max(100, c.var.deps.config.HOUFU_REQUEST_TIMEOUT_MS - 1_000)),
  ]);
  const chains = [];
  for (const d of divisions) {
    const r = await verifyAuditChain(tx, d, { signal }).catch((error: unknown) => {
      if (signal.aborted) {
        throw new ApiError(
          'timeout',
          'Verification ran out of time; verify fewer divisions at once (`division`).',
        );
      }
      throw error;
    });
    chains.push({
      division_code: r.division,
      events: r.events,
      valid: r.valid,
      broken_at: r.brokenAt ?? null,
      head_hash: r.headHash,
    });
  }
  return c.json({ valid: chains.every((ch) => ch.valid), chains }, 200);
};
