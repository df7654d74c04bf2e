import type { RouteHandler } from '@hono/zod-openapi';
import type {
  CountyConflictSide,
  RegistryVerificationGroup,
  RegistryVerificationWithName,
  ReviewerConflict,
} from '@houfu/db';
import { divisionLevel, type RemovalReason } from '@houfu/domain';
import type { Context as HonoContext } from 'hono';
import { z } from 'zod';
import { contentDisposition } from '../../lib/files.js';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import { groupByOf } from '../../lib/params.js';
import { serviceContext } from '../../lib/service-context.js';
import type { AppEnv } from '../../lib/types.js';
import { noticeCsv, noticeHtml } from './registry.notice.js';
import type {
  getPublicNotice,
  getRegistrySummary,
  listRegistryConflicts,
  listVerifications,
  previewVerification,
  resolveRegistryConflict,
  submitVerification,
} from './registry.routes.js';
import * as service from './registry.service.js';

const registryContext = (c: HonoContext<AppEnv>): service.Context => ({
  ...serviceContext(c),
  division: c.var.principal.division,
});

type Removals = Record<RemovalReason, number>;
const sumRemovals = (r: Removals) => r.civil_servant + r.non_agricultural_hukou + r.imprisonment + r.other;

/** The computed fields every verification carries, decrease and increase included. */
function verificationFields(v: {
  county: number;
  countyName: string | null;
  year: number;
  previousCount: number;
  previousSource: 'verification' | 'records';
  deaths: number;
  removals: Removals;
  movedOut: number;
  movedIn: number;
  reRegistered: number;
  verifiedCount: number;
}) {
  return {
    county_code: v.county,
    county_name: v.countyName,
    year: v.year,
    previous_count: v.previousCount,
    previous_source: v.previousSource,
    deaths: v.deaths,
    removals: v.removals,
    moved_out: v.movedOut,
    decrease: v.deaths + sumRemovals(v.removals) + v.movedOut,
    moved_in: v.movedIn,
    re_registered: v.reRegistered,
    increase: v.movedIn + v.reRegistered,
    verified_count: v.verifiedCount,
  };
}

const removalsOf = (r: Record<string, number>): Removals => ({
  civil_servant: r.civil_servant ?? 0,
  non_agricultural_hukou: r.non_agricultural_hukou ?? 0,
  imprisonment: r.imprisonment ?? 0,
  other: r.other ?? 0,
});

const toVerification = (v: RegistryVerificationWithName) => ({
  ...verificationFields({ ...v, county: v.divisionCode, removals: removalsOf(v.removals) }),
  note: v.note,
  submitted_by: v.submittedBy,
  submitted_at: v.submittedAt.toISOString(),
});

export const preview: RouteHandler<typeof previewVerification, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const computed = await service.previewVerification(registryContext(c), { year: q.year, county: q.county });
  return c.json(
    {
      ...verificationFields({
        ...computed.result,
        county: computed.county,
        countyName: computed.countyName,
        previousSource: computed.previousSource,
      }),
      submitted: computed.submitted,
    },
    200,
  );
};

export const submit: RouteHandler<typeof submitVerification, AppEnv> = async (c) => {
  const stored = await service.submitVerification(registryContext(c), c.req.valid('json'));
  return c.json(toVerification(stored), 201);
};

const groupFields = (g: Omit<RegistryVerificationGroup, 'code' | 'name' | 'level'>) => ({
  counties_expected: g.countiesExpected,
  counties_submitted: g.countiesSubmitted,
  previous_count: g.previousCount,
  deaths: g.deaths,
  removals: g.removals,
  moved_out: g.movedOut,
  decrease: g.deaths + sumRemovals(g.removals) + g.movedOut,
  moved_in: g.movedIn,
  re_registered: g.reRegistered,
  increase: g.movedIn + g.reRegistered,
  verified_count: g.verifiedCount,
});

export const list: RouteHandler<typeof listVerifications, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, z.tuple([z.number().int(), z.number().int()]));
  const result = await service.listVerifications(registryContext(c), {
    year: q.year,
    division: q.division,
    groupBy: groupByOf(q),
    after: after ? { divisionCode: after[0], year: after[1] } : undefined,
    limit: q.limit + 1,
  });
  if (result.kind === 'page') {
    return c.json(
      paginate(result.rows, q.limit, toVerification, (v) => [v.divisionCode, v.year]),
      200,
    );
  }
  const total = result.groups.reduce(
    (t, g) => ({
      countiesExpected: t.countiesExpected + g.countiesExpected,
      countiesSubmitted: t.countiesSubmitted + g.countiesSubmitted,
      previousCount: t.previousCount + g.previousCount,
      deaths: t.deaths + g.deaths,
      removals: {
        civil_servant: t.removals.civil_servant + g.removals.civil_servant,
        non_agricultural_hukou: t.removals.non_agricultural_hukou + g.removals.non_agricultural_hukou,
        imprisonment: t.removals.imprisonment + g.removals.imprisonment,
        other: t.removals.other + g.removals.other,
      },
      movedOut: t.movedOut + g.movedOut,
      movedIn: t.movedIn + g.movedIn,
      reRegistered: t.reRegistered + g.reRegistered,
      verifiedCount: t.verifiedCount + g.verifiedCount,
    }),
    {
      countiesExpected: 0,
      countiesSubmitted: 0,
      previousCount: 0,
      deaths: 0,
      removals: { civil_servant: 0, non_agricultural_hukou: 0, imprisonment: 0, other: 0 },
      movedOut: 0,
      movedIn: 0,
      reRegistered: 0,
      verifiedCount: 0,
    },
  );
  return c.json(
    {
      year: result.year,
      group_by: result.groupBy,
      groups: result.groups.map((g) => ({ code: g.code, name: g.name, ...groupFields(g) })),
      total: groupFields(total),
    },
    200,
  );
};

export const notice: RouteHandler<typeof getPublicNotice, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const data = await service.publicNotice(registryContext(c), { village: q.village, year: q.year });
  c.header('cache-control', 'no-store');
  if (q.format === 'csv') {
    c.header(
      'content-disposition',
      contentDisposition(`公示-${data.villageName}-${q.year}.csv`, `notice-${q.village}-${q.year}.csv`),
    );
    c.header('content-type', 'text/csv; charset=utf-8');
    return c.body(noticeCsv(data), 200);
  }
  c.header('content-type', 'text/html; charset=utf-8');
  return c.body(noticeHtml(data), 200);
};

const toCountySide = (s: CountyConflictSide) => ({
  view: 'county' as const,
  id: s.conflictId,
  status: s.status,
  outcome: s.outcome,
  reviewer_level: divisionLevel(s.reviewerDivision) as 'city' | 'province' | 'nation',
  detected_at: s.detectedAt,
  person: {
    id: s.personId,
    name: s.personName,
    national_id_masked: s.personIdMasked,
    status: s.personStatus,
  },
});

const toReviewerConflict = (r: ReviewerConflict) => ({
  view: 'reviewer' as const,
  id: r.id,
  reviewer_division: {
    code: r.divisionCode,
    level: divisionLevel(r.divisionCode) as 'city' | 'province' | 'nation',
  },
  status: r.status,
  national_id_masked: r.idMasked,
  detected_at: r.detectedAt,
  resolved_at: r.resolvedAt,
  resolved_by: r.resolvedBy,
  sides: (['a', 'b'] as const).map((side) => {
    const s = r[side];
    return {
      side,
      county_code: s.countyCode,
      county_name: s.countyName,
      person_id: s.personId,
      name: s.name,
      national_id_masked: s.idMasked,
      status: s.status,
      relocation_date: s.relocationDate,
      outcome: s.outcome,
    };
  }),
  resolution: r.resolution
    ? (r.resolution as {
        kept_person_id: string;
        ended_person_id: string;
        ended_event_id: string;
        ended_kind: 'moved_out' | 'removed';
        effective_date: string;
      })
    : null,
});

const conflictCursor = z.tuple([z.iso.datetime(), z.uuid()]);

export const conflicts: RouteHandler<typeof listRegistryConflicts, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, conflictCursor);
  const result = await service.listConflicts(registryContext(c), {
    status: q.status,
    after: after ? { detectedAt: after[0], id: after[1] } : undefined,
    limit: q.limit + 1,
  });
  if (result.view === 'county') {
    return c.json(
      paginate(result.rows, q.limit, toCountySide, (s) => [s.detectedAt, s.conflictId]),
      200,
    );
  }
  return c.json(
    paginate(result.rows, q.limit, toReviewerConflict, (r) => [r.detectedAt, r.id]),
    200,
  );
};

export const resolve: RouteHandler<typeof resolveRegistryConflict, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const resolved = await service.resolveConflict(registryContext(c), id, c.req.valid('json'));
  return c.json(toReviewerConflict(resolved), 200);
};

export const summary: RouteHandler<typeof getRegistrySummary, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const s = await service.summary(registryContext(c), {
    division: q.division,
    groupBy: groupByOf(q),
    on: q.on,
  });
  const counts = (r: typeof s.total) => ({
    registered: r.registered,
    supported: r.supported,
    deceased: r.deceased,
    moved_out: r.movedOut,
    removed: r.removed,
    households: r.households,
  });
  return c.json(
    {
      division: s.division,
      group_by: s.groupBy,
      on: s.on,
      rows: s.rows.map((r) => ({ code: r.code, name: r.name, ...counts(r) })),
      total: counts(s.total),
    },
    200,
  );
};
