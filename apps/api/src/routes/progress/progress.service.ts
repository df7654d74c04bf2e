import {
  appendAudit,
  getDivision,
  getDivisions,
  getProgressTarget,
  insertProgressTarget,
  insertTargetReport,
  type ProgressTarget,
  type TargetProgress,
  type TargetReport,
  type Tx,
  targetsWithDone,
} from '@houfu/db';
import { type DivisionLevel, divisionLevel, doubleHalf, isWithin, scopeOf, timeElapsed } from '@houfu/domain';
import { today } from '../../lib/dates.js';
import { ApiError } from '../../lib/problem.js';
import type { ServiceContext } from '../../lib/service-context.js';

/** What the progress services need from a request. */
export type Context = Pick<ServiceContext, 'tx' | 'actor' | 'requestId' | 'now'>;

export const progressKinds = ['people', 'money', 'projects'] as const;
export type ProgressKind = (typeof progressKinds)[number];
export const doneSources = [
  'reported',
  'projects_approved',
  'funds_committed',
  'funds_paid',
  'investment_completed',
] as const;
export type DoneSource = (typeof doneSources)[number];

/** Where "done" comes from when the target does not say: what the system knows, else the county's reports. */
export const defaultDoneSource: Readonly<Record<ProgressKind, DoneSource>> = {
  people: 'reported',
  money: 'funds_committed',
  projects: 'projects_approved',
};

/** The sources that measure each kind: the county's reports always, else what the system knows of it. */
const kindSources: Readonly<Record<ProgressKind, readonly DoneSource[]>> = {
  people: ['reported'],
  money: ['reported', 'funds_committed', 'funds_paid', 'investment_completed'],
  projects: ['reported', 'projects_approved'],
};

/** A target the caller's scope sees, else 404. */
export async function targetInScope(tx: Tx, id: string): Promise<ProgressTarget> {
  const target = await getProgressTarget(tx, id);
  if (!target) throw new ApiError('not_found', `Progress target ${id} was not found.`);
  return target;
}

export interface TargetInput {
  county: number;
  kind: ProgressKind;
  doneSource: DoneSource | undefined;
  name: string;
  periodStart: string;
  periodEnd: string;
  targetValue: number;
}

/**
 * The province sets a county's 双过半 target of a kind for a period: one per county, kind and period
 * (409). `done_source` defaults to what the system knows (projects approved, funds committed; money may
 * also be measured as paid or as investment completed); people are always reported by the county. Audited in the county's trail.
 */
export async function createTarget(ctx: Context, input: TargetInput): Promise<ProgressTarget> {
  if (divisionLevel(ctx.actor.division) !== 'province') {
    throw new ApiError('forbidden', 'Progress targets are set by the province.');
  }
  const county = await getDivision(ctx.tx, input.county);
  if (county?.level !== 'county' || !isWithin(input.county, ctx.actor.division)) {
    throw new ApiError('not_found', `County ${input.county} was not found in your scope.`, [
      { field: 'county_code', message: 'Not a county in your scope', code: 'not_found' },
    ]);
  }
  const doneSource = input.doneSource ?? defaultDoneSource[input.kind];
  if (!kindSources[input.kind].includes(doneSource)) {
    throw new ApiError(
      'unprocessable',
      `A ${input.kind} target is done by ${kindSources[input.kind].map((k) => `\`${k}\``).join(', ')}.`,
      [{ field: 'done_source', message: `Does not measure ${input.kind}`, code: 'wrong_source' }],
    );
  }
  if (input.periodEnd < input.periodStart) {
    throw new ApiError('unprocessable', 'The period ends before it starts.', [
      { field: 'period_end', message: 'Before period_start', code: 'invalid_range' },
    ]);
  }
  const id = await insertProgressTarget(ctx.tx, {
    divisionCode: input.county,
    kind: input.kind,
    doneSource,
    name: input.name,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    targetValue: input.targetValue,
    createdBy: ctx.actor.sub,
    createdByDivision: ctx.actor.division,
  });
  if (!id) {
    throw new ApiError(
      'conflict',
      `County ${input.county} already has a ${input.kind} target for ${input.periodStart}..${input.periodEnd}.`,
    );
  }
  const added = (v: unknown) => ({ old: null, new: v });
  await appendAudit(ctx.tx, {
    division: input.county,
    occurredAt: ctx.now,
    actor: ctx.actor,
    action: 'progress_target.create',
    entityType: 'progress_target',
    entityId: id,
    changes: {
      kind: added(input.kind),
      done_source: added(doneSource),
      name: added(input.name),
      period_start: added(input.periodStart),
      period_end: added(input.periodEnd),
      target_value: added(input.targetValue),
    },
    requestId: ctx.requestId,
  });
  return targetInScope(ctx.tx, id);
}

/**
 * A county clerk reports 进度上报 what is done on one of the county's `reported` targets as of a day
 * within the period and not in the future; the figure is cumulative, and the latest report as of a
 * day is what the report of that day uses. Targets the system measures take no reports (409).
 */
export async function reportProgress(
  ctx: Context,
  id: string,
  input: { asOf: string; doneValue: number; note: string | null },
): Promise<TargetReport> {
  const target = await targetInScope(ctx.tx, id);
  if (target.divisionCode !== ctx.actor.division) {
    throw new ApiError('not_found', `Progress target ${id} was not found.`);
  }
  if (target.doneSource !== 'reported') {
    throw new ApiError(
      'conflict',
      `Target ${id} is measured by the system (${target.doneSource}): nothing is reported on it.`,
    );
  }
  if (input.asOf > today(ctx.now) || input.asOf < target.periodStart || input.asOf > target.periodEnd) {
    throw new ApiError(
      'unprocessable',
      `A report is dated within ${target.periodStart}..${target.periodEnd} and not in the future.`,
      [{ field: 'as_of', message: 'Outside the period or in the future', code: 'out_of_period' }],
    );
  }
  const report = await insertTargetReport(ctx.tx, target, {
    asOf: input.asOf,
    doneValue: input.doneValue,
    note: input.note,
    by: ctx.actor.sub,
  });
  await appendAudit(ctx.tx, {
    division: target.divisionCode,
    occurredAt: ctx.now,
    actor: ctx.actor,
    action: 'progress_report.create',
    entityType: 'progress_target',
    entityId: target.id,
    changes: {
      as_of: { old: null, new: input.asOf },
      done_value: { old: null, new: input.doneValue },
      note: { old: null, new: input.note },
    },
    requestId: ctx.requestId,
  });
  return report;
}

export interface ProgressRow {
  divisionCode: number;
  divisionName: string | null;
  targets: number;
  targetValue: number;
  doneValue: number;
  timePercent: string;
  donePercent: string | null;
  onTrack: boolean;
  doubleHalf: boolean;
}

export interface ProgressReportResult {
  division: number;
  divisionName: string | null;
  kind: ProgressKind;
  periodStart: string;
  periodEnd: string;
  on: string;
  elapsedDays: number;
  totalDays: number;
  timePercent: string;
  rows: ProgressRow[];
  total: ProgressRow;
}

/** The child of `parent` that `county` lies in (a county reports itself). */
function childOf(county: number, parentLevel: DivisionLevel): number {
  if (parentLevel === 'nation') return county - (county % 10_000);
  if (parentLevel === 'province') return county - (county % 100);
  return county;
}

/**
 * The 双过半 report of `division` (in the caller's scope, else 404): the targets of `kind` with exactly
 * the period `start`..`end`, summed per child division (provinces of the nation, cities of a province,
 * counties of a city; a county reports itself), each with the share of time elapsed on `on` and the
 * share done, through doubleHalf.
 */
export async function progressReport(
  tx: Tx,
  caller: number,
  q: { division: number; kind: ProgressKind; start: string; end: string; on: string },
): Promise<ProgressReportResult> {
  const found = q.division === 0 ? undefined : await getDivision(tx, q.division);
  if (!isWithin(q.division, caller) || (q.division !== 0 && !found)) {
    throw new ApiError('not_found', `Division ${q.division} was not found in your scope.`);
  }
  if (q.end < q.start) {
    throw new ApiError('unprocessable', 'The period ends before it starts.', [
      { field: 'period_end', message: 'Before period_start', code: 'invalid_range' },
    ]);
  }
  const time = timeElapsed({ start: q.start, end: q.end, on: q.on });
  const targets = await targetsWithDone(tx, { ...q, range: scopeOf(q.division) });
  const level = divisionLevel(q.division);
  const groups = new Map<number, TargetProgress[]>();
  for (const t of targets) {
    const child = childOf(t.divisionCode, level);
    groups.set(child, [...(groups.get(child) ?? []), t]);
  }
  const names = new Map((await getDivisions(tx, [...groups.keys()])).map((d) => [d.code, d.name]));
  const row = (code: number, name: string | null, list: TargetProgress[]): ProgressRow => {
    const targetValue = list.reduce((a, t) => a + t.targetValue, 0);
    const doneValue = list.reduce((a, t) => a + t.doneValue, 0);
    const r = doubleHalf({ start: q.start, end: q.end, on: q.on, target: targetValue, done: doneValue });
    return {
      divisionCode: code,
      divisionName: name,
      targets: list.length,
      targetValue,
      doneValue,
      timePercent: r.timePercent,
      donePercent: r.donePercent,
      onTrack: r.onTrack,
      doubleHalf: r.doubleHalf,
    };
  };
  const divisionName = found?.name ?? (q.division === 0 ? '全国' : null);
  return {
    division: q.division,
    divisionName,
    kind: q.kind,
    periodStart: q.start,
    periodEnd: q.end,
    on: q.on,
    elapsedDays: time.elapsedDays,
    totalDays: time.totalDays,
    timePercent: time.percent,
    rows: [...groups.entries()]
      .sort(([a], [b]) => a - b)
      .map(([code, list]) => row(code, names.get(code) ?? null, list)),
    total: row(q.division, divisionName, targets),
  };
}
