import {
  type Actor,
  appendAudit,
  type Changes,
  getLocality,
  insertLocality,
  type Locality,
  lockTownship,
  type Tx,
  updateLocality as updateLocalityRow,
} from '@houfu/db';
import { countyOfLocality, localityLevel, townshipOfLocality } from '@houfu/domain';
import { etagOf } from '../../lib/etag.js';
import { ApiError } from '../../lib/problem.js';

export interface Context {
  tx: Tx;
  actor: Actor;
  requestId: string | null;
  now: Date;
}

/** Only the county that owns a locality writes it. */
function assertOwnCounty(ctx: Context, county: number) {
  if (ctx.actor.division !== county) {
    throw new ApiError('forbidden', 'Localities are written by the county they belong to.', [
      { field: 'code', message: `Code belongs to county ${county}`, code: 'forbidden' },
    ]);
  }
}

export async function createLocality(ctx: Context, input: { code: number; name: string }): Promise<Locality> {
  const county = countyOfLocality(input.code);
  assertOwnCounty(ctx, county);
  const level = localityLevel(input.code);
  const townshipCode = townshipOfLocality(input.code);
  if (level === 'village') {
    const township = await lockTownship(ctx.tx, county, townshipCode);
    if (!township?.active) {
      throw new ApiError(
        'unprocessable',
        `Township ${townshipCode} does not exist or is inactive; add it first.`,
        [{ field: 'code', message: 'Unknown or inactive township', code: 'unknown_township' }],
      );
    }
  }
  const created = await insertLocality(ctx.tx, {
    divisionCode: county,
    code: input.code,
    level,
    townshipCode,
    name: input.name,
    source: 'local',
  });
  if (!created) throw new ApiError('conflict', `Locality ${input.code} already exists.`);
  await appendAudit(ctx.tx, {
    division: county,
    actor: ctx.actor,
    action: 'locality.create',
    entityType: 'locality',
    entityId: String(created.code),
    changes: { name: { old: null, new: created.name }, level: { old: null, new: level } },
    requestId: ctx.requestId,
    occurredAt: ctx.now,
  });
  return created;
}

export async function updateLocality(
  ctx: Context,
  code: number,
  expectedVersion: number,
  patch: { name?: string | undefined; active?: boolean | undefined },
): Promise<Locality> {
  const county = countyOfLocality(code);
  const current = await getLocality(ctx.tx, county, code);
  // Invisible and foreign rows look the same: not found.
  if (!current || ctx.actor.division !== county)
    throw new ApiError('not_found', `Locality ${code} was not found.`);
  if (current.version !== expectedVersion) {
    throw new ApiError(
      'precondition_failed',
      `Locality ${code} is at version ${current.version}; read it again.`,
      [],
      {
        etag: etagOf(current.version),
      },
    );
  }
  const changes: Changes = {};
  if (patch.name !== undefined && patch.name !== current.name)
    changes.name = { old: current.name, new: patch.name };
  if (patch.active !== undefined && patch.active !== current.active)
    changes.active = { old: current.active, new: patch.active };
  if (Object.keys(changes).length === 0) return current;
  const updated = await updateLocalityRow(ctx.tx, county, code, expectedVersion, {
    ...(changes.name ? { name: patch.name } : {}),
    ...(changes.active ? { active: patch.active } : {}),
  });
  if (!updated)
    throw new ApiError('precondition_failed', `Locality ${code} changed meanwhile; read it again.`);
  await appendAudit(ctx.tx, {
    division: county,
    actor: ctx.actor,
    action: 'locality.update',
    entityType: 'locality',
    entityId: String(code),
    changes,
    requestId: ctx.requestId,
    occurredAt: ctx.now,
  });
  return updated;
}
