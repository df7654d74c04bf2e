import {
  appendAudit,
  type DivisionRange,
  getDivision,
  getNoticeVillage,
  getRegistryVerification,
  getReviewerConflict,
  groupRegistryVerifications,
  insertRegistryVerification,
  laterRegistryVerificationYear,
  listCountyConflictSides,
  listRegistryVerifications,
  listReviewerConflicts,
  lockCountyVerifications,
  lockRegistryConflict,
  markRegistryConflictResolved,
  personsRemovedIn,
  provincesWithin,
  type RegistryGroupLevel,
  type RegistrySummaryLevel,
  type RegistryVerification,
  registeredCountOn,
  registryEventCounts,
  registrySummary,
  type SupportWindowOnDate,
  type Tx,
  villageRegistry,
} from '@houfu/db';
import {
  computeVerification,
  countyOfLocality,
  type DivisionLevel,
  divisionLevel,
  isSupported,
  isWithin,
  localityLevel,
  type PersonEvent,
  parameterValue,
  type Relationship,
  type RemovalEffectiveRule,
  type RemovalReason,
  relationships,
  type SupportWindowRule,
  scopeOf,
  statusOn,
  supportWindow,
  supportWindowParameter,
  type VerificationResult,
} from '@houfu/domain';
import { today } from '../../lib/dates.js';
import { loadParameter, loadProvinceParameters } from '../../lib/policy.js';
import { ApiError, type FieldError } from '../../lib/problem.js';
import {
  type Context as PersonsContext,
  recordPersonEvent,
  refreshPersonStatuses,
} from '../persons/persons.service.js';

/** What the registry services need: the request's transaction, the caller and the clock. */
export interface Context extends PersonsContext {
  /** The caller's division (its scope is everything below it). */
  division: number;
}

/**
 * Today's date from the app clock, as the persons services read it (UTC date of the clock), so the
 * status of a person is the same whichever route derives it.
 */
export const todayOf = (ctx: Pick<Context, 'now'>) => today(ctx.now);

const field = (name: string, message: string, code: string): FieldError => ({ field: name, message, code });

/** A division the caller may see, else 404 (the same answer as a division that does not exist). */
async function divisionInScope(ctx: Context, code: number, what = 'Division') {
  const division = isWithin(code, ctx.division) ? await getDivision(ctx.tx, code) : undefined;
  if (!division) throw new ApiError('not_found', `${what} ${code} is not in your scope.`);
  return division;
}

// ── Annual verification 年度核定 ──────────────────────────────────────────────────────────────────

export interface ComputedVerification {
  county: number;
  countyName: string | null;
  result: VerificationResult;
  previousSource: 'verification' | 'records';
}

function assertYearBegun(ctx: Context, year: number, name: string) {
  const current = Number(todayOf(ctx).slice(0, 4));
  if (year > current) {
    throw new ApiError('unprocessable', `Year ${year} has not begun yet (today is in ${current}).`, [
      field(name, `Not after ${current}`, 'future_year'),
    ]);
  }
}

/** The verification of `year` computed from the county's records (nothing stored). */
export async function computeCountyVerification(
  tx: Tx,
  county: number,
  year: number,
  countyName: string | null,
): Promise<ComputedVerification> {
  const [stored, counts] = await Promise.all([
    getRegistryVerification(tx, county, year - 1),
    registryEventCounts(tx, county, year),
  ]);
  const previousCount = stored
    ? stored.verifiedCount
    : await registeredCountOn(tx, county, `${year - 1}-12-31`);
  let result: VerificationResult;
  try {
    result = computeVerification({ year, previousCount, ...counts });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new ApiError(
      'unprocessable',
      `The records of ${year} do not give a verification: ${error.message}.`,
    );
  }
  return { county, countyName, result, previousSource: stored ? 'verification' : 'records' };
}

/** The county a verification request is about: a county caller's own, or a named county in scope. */
async function verificationCounty(ctx: Context, requested: number | undefined) {
  if (divisionLevel(ctx.division) === 'county') {
    return divisionInScope(ctx, requested ?? ctx.division, 'County');
  }
  if (requested === undefined) {
    throw new ApiError('validation_failed', 'Name the county to preview (you do not sit at a county).', [
      field('query.county', 'Required unless you sit at a county', 'invalid_type'),
    ]);
  }
  if (divisionLevel(requested) !== 'county') {
    throw new ApiError('validation_failed', `${requested} is not a county.`, [
      field('query.county', 'Not a county-level division code', 'invalid_value'),
    ]);
  }
  return divisionInScope(ctx, requested, 'County');
}

export async function previewVerification(
  ctx: Context,
  input: { year: number; county?: number | undefined },
): Promise<ComputedVerification & { submitted: boolean }> {
  const county = await verificationCounty(ctx, input.county);
  assertYearBegun(ctx, input.year, 'query.year');
  const computed = await computeCountyVerification(ctx.tx, county.code, input.year, county.name);
  const submitted = await getRegistryVerification(ctx.tx, county.code, input.year);
  return { ...computed, submitted: submitted !== undefined };
}

export async function submitVerification(
  ctx: Context,
  input: { year: number; note?: string | undefined },
): Promise<RegistryVerification & { countyName: string | null }> {
  if (divisionLevel(ctx.division) !== 'county') {
    throw new ApiError('forbidden', 'A county submits its own annual verification.');
  }
  const county = await divisionInScope(ctx, ctx.division, 'County');
  assertYearBegun(ctx, input.year, 'year');
  // One submission of a county at a time: year Y+1 must see Y's row, not fall back to the records.
  await lockCountyVerifications(ctx.tx, county.code);
  if (await getRegistryVerification(ctx.tx, county.code, input.year)) {
    throw new ApiError(
      'conflict',
      `County ${county.code} already submitted its verification of ${input.year}.`,
    );
  }
  const later = await laterRegistryVerificationYear(ctx.tx, county.code, input.year);
  if (later !== undefined) {
    throw new ApiError(
      'unprocessable',
      `County ${county.code} already verified ${later}; years are verified in order.`,
      [field('year', `A later year (${later}) is already verified`, 'later_year_verified')],
    );
  }
  const { result, previousSource } = await computeCountyVerification(
    ctx.tx,
    county.code,
    input.year,
    county.name,
  );
  const stored = await insertRegistryVerification(ctx.tx, {
    divisionCode: county.code,
    year: input.year,
    previousCount: result.previousCount,
    previousSource,
    deaths: result.deaths,
    removals: result.removals,
    movedOut: result.movedOut,
    movedIn: result.movedIn,
    reRegistered: result.reRegistered,
    verifiedCount: result.verifiedCount,
    note: input.note ?? null,
    submittedBy: ctx.actor.sub,
    submittedAt: ctx.now,
  });
  // A concurrent submission of the same year won the race.
  if (!stored) throw new ApiError('conflict', `County ${county.code} already submitted ${input.year}.`);
  await appendAudit(ctx.tx, {
    division: county.code,
    actor: ctx.actor,
    action: 'registry.verification.submit',
    entityType: 'registry_verification',
    entityId: `${county.code}:${input.year}`,
    changes: {
      previous_count: { old: null, new: result.previousCount },
      previous_source: { old: null, new: previousSource },
      deaths: { old: null, new: result.deaths },
      removals: { old: null, new: result.removals },
      moved_out: { old: null, new: result.movedOut },
      moved_in: { old: null, new: result.movedIn },
      re_registered: { old: null, new: result.reRegistered },
      verified_count: { old: null, new: result.verifiedCount },
      ...(input.note ? { note: { old: null, new: input.note } } : {}),
    },
    requestId: ctx.requestId,
    occurredAt: ctx.now,
  });
  // Under the annual_review rule the year's removals take effect now: bring their statuses in step.
  const removed = await personsRemovedIn(ctx.tx, county.code, input.year);
  if (removed.length > 0) await refreshPersonStatuses(ctx, removed);
  return { ...stored, countyName: county.name };
}

export async function listVerifications(
  ctx: Context,
  input: {
    year?: number | undefined;
    division?: number | undefined;
    groupBy?: RegistryGroupLevel | undefined;
    after?: { divisionCode: number; year: number } | undefined;
    limit: number;
  },
) {
  const division = input.division ?? ctx.division;
  if (input.division !== undefined) await divisionInScope(ctx, input.division);
  const range = scopeOf(division);
  if (input.groupBy === undefined) {
    return {
      kind: 'page' as const,
      rows: await listRegistryVerifications(ctx.tx, {
        range,
        year: input.year,
        after: input.after,
        limit: input.limit,
      }),
    };
  }
  if (input.year === undefined) {
    throw new ApiError('validation_failed', 'Sums are per year: send `year` with `group_by`.', [
      field('query.year', 'Required with group_by', 'invalid_type'),
    ]);
  }
  if (levelRank[input.groupBy] < levelRank[divisionLevel(division)]) {
    throw new ApiError(
      'validation_failed',
      `Cannot group ${divisionLevel(division)} ${division} by ${input.groupBy}.`,
      [field('query.group_by', 'Not above the division', 'invalid_value')],
    );
  }
  return {
    kind: 'groups' as const,
    year: input.year,
    groupBy: input.groupBy,
    groups: await groupRegistryVerifications(ctx.tx, { range, year: input.year, groupBy: input.groupBy }),
  };
}

const levelRank: Record<DivisionLevel | 'village', number> = {
  nation: 0,
  province: 1,
  city: 2,
  county: 3,
  village: 4,
};

// ── Public notice 公示 ──────────────────────────────────────────────────────────────────────────

export interface NoticeRow {
  householdNo: string;
  name: string;
  sex: 'male' | 'female';
  idMasked: string;
  relationship: Relationship;
  relocateeKind: 'original' | 'other';
}

export interface Notice {
  countyCode: number;
  countyName: string | null;
  townshipName: string | null;
  villageCode: number;
  villageName: string;
  year: number;
  households: number;
  rows: NoticeRow[];
}

const householdOrder = new Intl.Collator('zh-CN', { numeric: true });

/**
 * The persons of a village supported at the end of `year`: status `registered` on 31 December by
 * their events under the province's removal rule in force that day (with the county's review
 * dates), and that day within their support window.
 */
export async function publicNotice(ctx: Context, input: { village: number; year: number }): Promise<Notice> {
  if (localityLevel(input.village) !== 'village') {
    throw new ApiError('validation_failed', `${input.village} is a township, not a village.`, [
      field('query.village', 'Not a village code', 'invalid_value'),
    ]);
  }
  const county = countyOfLocality(input.village);
  const village = isWithin(county, ctx.division)
    ? await getNoticeVillage(ctx.tx, county, input.village)
    : undefined;
  if (!village) throw new ApiError('not_found', `Village ${input.village} is not in your scope.`);
  assertYearBegun(ctx, input.year, 'query.year');
  const yearEnd = `${input.year}-12-31`;
  // The notice lists the verified population: removals count on their event date, as in the
  // verification of the year (whatever the province's rule for when they stop payments).
  const removalRule: RemovalEffectiveRule = 'event_date';
  let window: SupportWindowRule;
  try {
    window = parameterValue(
      await loadParameter(ctx.tx, supportWindowParameter, county),
      county,
      yearEnd,
    ).value;
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new ApiError('unprocessable', `No support policy was in force on ${yearEnd}.`, [
      field('query.year', 'Before the support policy', 'no_policy'),
    ]);
  }
  const { persons, events } = await villageRegistry(ctx.tx, county, input.village, yearEnd);
  const byPerson = new Map<string, PersonEvent[]>();
  for (const e of events) {
    const list = byPerson.get(e.personId) ?? [];
    list.push({
      id: e.id,
      kind: e.kind,
      effectiveDate: e.effectiveDate,
      reason: e.reason,
      correctsId: e.correctsId,
      recordedAt: e.recordedAt,
    });
    byPerson.set(e.personId, list);
  }
  const listed = persons.filter((p) => {
    const status = statusOn(byPerson.get(p.id) ?? [], yearEnd, {
      registeredOn: p.registeredOn,
      removalRule,
    });
    return isSupported(status, p.relocationDate, yearEnd, window);
  });
  const rank = (r: string) => relationships.indexOf(r as Relationship);
  listed.sort(
    (a, b) =>
      householdOrder.compare(a.householdNo, b.householdNo) ||
      (a.householdNo < b.householdNo ? -1 : a.householdNo > b.householdNo ? 1 : 0) ||
      rank(a.relationship) - rank(b.relationship) ||
      (a.birthDate < b.birthDate ? -1 : a.birthDate > b.birthDate ? 1 : 0) ||
      (a.id < b.id ? -1 : 1),
  );
  return {
    countyCode: county,
    countyName: village.countyName,
    townshipName: village.townshipName,
    villageCode: input.village,
    villageName: village.name,
    year: input.year,
    households: new Set(listed.map((p) => p.householdNo)).size,
    rows: listed.map((p) => ({
      householdNo: p.householdNo,
      name: p.name,
      sex: p.sex,
      idMasked: p.idMasked,
      relationship: p.relationship as Relationship,
      relocateeKind: p.relocateeKind,
    })),
  };
}

// ── Conflicts 重复登记 ──────────────────────────────────────────────────────────────────────────

export async function listConflicts(
  ctx: Context,
  input: {
    status?: 'open' | 'resolved' | undefined;
    after?: { detectedAt: string; id: string } | undefined;
    limit: number;
  },
) {
  const page = { status: input.status, after: input.after, limit: input.limit };
  if (divisionLevel(ctx.division) === 'county') {
    return { view: 'county' as const, rows: await listCountyConflictSides(ctx.tx, ctx.division, page) };
  }
  return {
    view: 'reviewer' as const,
    rows: await listReviewerConflicts(ctx.tx, scopeOf(ctx.division), page),
  };
}

export interface ResolveInput {
  keep: 'a' | 'b' | string;
  ended: {
    kind: 'moved_out' | 'removed';
    effective_date: string;
    reason?: RemovalReason | undefined;
    destination_code?: number | undefined;
    destination_note?: string | undefined;
    evidence_ref: string;
    note?: string | undefined;
  };
}

/**
 * Resolves a conflict the caller reviews (its row is visible only to the reviewing division and
 * those above it): records the ended registration's event in its county through the persons
 * service, marks the conflict and both sides resolved and audits in the conflict's division.
 */
export async function resolveConflict(ctx: Context, id: string, input: ResolveInput) {
  const conflict = await lockRegistryConflict(ctx.tx, id);
  if (!conflict) throw new ApiError('not_found', `Conflict ${id} was not found among those you review.`);
  if (conflict.status !== 'open') throw new ApiError('conflict', `Conflict ${id} is already resolved.`);
  const keepA = input.keep === 'a' || input.keep === conflict.personA;
  const keepB = input.keep === 'b' || input.keep === conflict.personB;
  if (!keepA && !keepB) {
    throw new ApiError('unprocessable', `Person ${input.keep} is not part of conflict ${id}.`, [
      field('keep', 'Neither side of the conflict', 'unknown_person'),
    ]);
  }
  const kept = keepA
    ? { county: conflict.countyA, person: conflict.personA }
    : { county: conflict.countyB, person: conflict.personB };
  const ended = keepA
    ? { county: conflict.countyB, person: conflict.personB }
    : { county: conflict.countyA, person: conflict.personA };
  const e = input.ended;
  let recorded: Awaited<ReturnType<typeof recordPersonEvent>>;
  try {
    recorded = await recordPersonEvent(ctx, {
      personId: ended.person,
      kind: e.kind,
      effectiveDate: e.effective_date,
      reason: e.kind === 'removed' ? e.reason : undefined,
      destinationCode: e.kind === 'moved_out' ? (e.destination_code ?? kept.county) : undefined,
      destinationNote: e.kind === 'moved_out' ? e.destination_note : undefined,
      evidenceRef: e.evidence_ref,
      note: e.note,
      resolvingConflictId: conflict.id,
    });
  } catch (error) {
    // The persons service names its own fields; here they sit under `ended`.
    if (error instanceof ApiError && error.errors.length > 0) {
      throw new ApiError(
        error.code,
        error.detail,
        error.errors.map((f) => ({ ...f, field: `ended.${f.field}` })),
        error.headers,
      );
    }
    throw error;
  }
  const resolution = {
    kept_person_id: kept.person,
    ended_person_id: ended.person,
    ended_event_id: recorded.event.id,
    ended_kind: e.kind,
    effective_date: e.effective_date,
  };
  const marked = await markRegistryConflictResolved(ctx.tx, conflict, {
    keptPersonId: kept.person,
    resolvedBy: ctx.actor.sub,
    resolvedAt: ctx.now,
    resolution,
  });
  if (!marked) throw new ApiError('conflict', `Conflict ${id} is already resolved.`);
  await appendAudit(ctx.tx, {
    division: conflict.divisionCode,
    actor: ctx.actor,
    action: 'registry.conflict.resolve',
    entityType: 'registry_conflict',
    entityId: conflict.id,
    changes: {
      status: { old: 'open', new: 'resolved' },
      kept: { old: null, new: { county: kept.county, person_id: kept.person } },
      ended: {
        old: null,
        new: { county: ended.county, person_id: ended.person, event_id: recorded.event.id, kind: e.kind },
      },
    },
    requestId: ctx.requestId,
    occurredAt: ctx.now,
  });
  const view = await getReviewerConflict(ctx.tx, conflict.id);
  if (!view) throw new Error(`conflict ${conflict.id} vanished`);
  return view;
}

// ── Summary ────────────────────────────────────────────────────────────────────────────────────

const DAY_MS = 86_400_000;
const dayNumber = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;
const isoOfDay = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);
const NOBODY = '9999-12-31';

/**
 * A province's support window on `on` as constants the SQL applies to every person: the persons
 * moved by the cutoff share one window; for those moved later the window's end grows with the
 * relocation date, so the smallest relocation date still supported on `on` is found by bisection
 * with the domain rule itself.
 */
export function supportWindowOnDate(
  province: number,
  rule: SupportWindowRule,
  on: string,
): SupportWindowOnDate {
  const byCutoff = isSupported('registered', rule.cutoff, on, rule);
  let lo = dayNumber(rule.cutoff) + 1;
  let hi = dayNumber(on);
  if (lo > hi || supportWindow(isoOfDay(hi), rule).until < on) {
    return { province, cutoff: rule.cutoff, byCutoff, minAfter: NOBODY };
  }
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (supportWindow(isoOfDay(mid), rule).until >= on) hi = mid;
    else lo = mid + 1;
  }
  return { province, cutoff: rule.cutoff, byCutoff, minAfter: isoOfDay(lo) };
}

const childLevel: Record<DivisionLevel, RegistrySummaryLevel | undefined> = {
  nation: 'province',
  province: 'city',
  city: 'county',
  county: 'village',
};

export async function summary(
  ctx: Context,
  input: {
    division?: number | undefined;
    groupBy?: RegistrySummaryLevel | undefined;
    on?: string | undefined;
  },
) {
  const division = await divisionInScope(ctx, input.division ?? ctx.division);
  const level = divisionLevel(division.code);
  const groupBy = input.groupBy ?? childLevel[level];
  if (!groupBy || levelRank[groupBy] <= levelRank[level]) {
    throw new ApiError('validation_failed', `A ${level} cannot be grouped by ${groupBy ?? 'nothing'}.`, [
      field('query.group_by', 'Must be below the division’s level', 'invalid_value'),
    ]);
  }
  if (groupBy === 'village' && level !== 'county' && level !== 'city') {
    throw new ApiError('validation_failed', 'Villages are listed for a county or a city.', [
      field('query.group_by', 'village needs a county or city division', 'invalid_value'),
    ]);
  }
  const on = input.on ?? todayOf(ctx);
  const range: DivisionRange = scopeOf(division.code);
  const provinces =
    level === 'nation' ? await provincesWithin(ctx.tx, range) : [division.code - (division.code % 10_000)];
  // Each province's window with its stored overrides (one query for all of them).
  const windowRules = await loadProvinceParameters(ctx.tx, supportWindowParameter, provinces);
  const windows = provinces.flatMap((province) => {
    const rule = windowRules.get(province) ?? supportWindowParameter;
    try {
      return [supportWindowOnDate(province, parameterValue(rule, province, on).value, on)];
    } catch (error) {
      if (error instanceof RangeError) return []; // no support policy in force that day: nobody supported
      throw error;
    }
  });
  const rows = await registrySummary(ctx.tx, { range, groupBy, on, windows });
  const total = { registered: 0, supported: 0, deceased: 0, movedOut: 0, removed: 0, households: 0 };
  for (const r of rows) {
    total.registered += r.registered;
    total.supported += r.supported;
    total.deceased += r.deceased;
    total.movedOut += r.movedOut;
    total.removed += r.removed;
    total.households += r.households;
  }
  return { division: { code: division.code, name: division.name, level }, groupBy, on, rows, total };
}
