import type { RemovalReason } from '@houfu/domain';
import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { registryConflicts, registryVerifications } from '../schema.js';
import { rowsOf } from '../tenant.js';

/*
 * Registry oversight 移民人口登记: annual verification 年度核定, the village public notice 公示,
 * cross-county conflicts 重复登记 and the summary by division. Everything that counts persons or
 * events is one set-based statement; dates cross the driver boundary as `YYYY-MM-DD` text and
 * timestamps as ISO text, so PGlite and postgres.js return the same shapes.
 */

/** A scope range of division codes (`scopeOf(division)`), used as an explicit filter besides RLS. */
export interface DivisionRange {
  lo: number;
  hi: number;
}

/** An ISO timestamp in UTC: microseconds where it orders events, milliseconds (as JSON dates) for display. */
const isoTimestamp = (column: SQL, precision: 'US' | 'MS' = 'MS') =>
  sql`to_char(${column} AT TIME ZONE 'UTC', ${sql.raw(`'YYYY-MM-DD"T"HH24:MI:SS.${precision}"Z"'`)})`;

/** Events that count: not a correction, and not voided by one. */
const liveEvent = (alias: string) =>
  sql.raw(`${alias}.kind <> 'correction' AND NOT EXISTS (SELECT 1 FROM person_events x
    WHERE x.division_code = ${alias}.division_code AND x.kind = 'correction' AND x.corrects_id = ${alias}.id)`);

// ── Annual verification 年度核定 ──────────────────────────────────────────────────────────────────

export interface RegistryEventCounts {
  deaths: number;
  removals: Record<RemovalReason, number>;
  movedOut: number;
  movedIn: number;
  reRegistered: number;
}

/**
 * The events of a county whose effective date falls in `year`, by kind (removals by reason); events
 * voided by a correction are left out. One aggregate over the county's events of the year.
 */
export async function registryEventCounts(
  tx: Tx,
  county: number,
  year: number,
): Promise<RegistryEventCounts> {
  const [row] = rowsOf<Record<string, number>>(
    await tx.execute(sql`
      SELECT count(*) FILTER (WHERE e.kind = 'death')::int AS deaths,
             count(*) FILTER (WHERE e.kind = 'moved_out')::int AS moved_out,
             count(*) FILTER (WHERE e.kind = 'moved_in')::int AS moved_in,
             count(*) FILTER (WHERE e.kind = 're_registered')::int AS re_registered,
             count(*) FILTER (WHERE e.kind = 'removed' AND e.reason = 'civil_servant')::int AS civil_servant,
             count(*) FILTER (WHERE e.kind = 'removed' AND e.reason = 'non_agricultural_hukou')::int
               AS non_agricultural_hukou,
             count(*) FILTER (WHERE e.kind = 'removed' AND e.reason = 'imprisonment')::int AS imprisonment,
             count(*) FILTER (WHERE e.kind = 'removed' AND e.reason = 'other')::int AS other
      FROM person_events e
      WHERE e.division_code = ${county}
        AND e.effective_date BETWEEN ${`${year}-01-01`}::date AND ${`${year}-12-31`}::date
        AND ${liveEvent('e')}`),
  );
  const n = (k: string) => Number(row?.[k] ?? 0);
  return {
    deaths: n('deaths'),
    removals: {
      civil_servant: n('civil_servant'),
      non_agricultural_hukou: n('non_agricultural_hukou'),
      imprisonment: n('imprisonment'),
      other: n('other'),
    },
    movedOut: n('moved_out'),
    movedIn: n('moved_in'),
    reRegistered: n('re_registered'),
  };
}

/**
 * How many persons of a county were registered 在册 on `date`, from their events with every event
 * taking effect on its effective date (the same footing the verification counts events on):
 * registered on or before `date`, no live death by then, and their last live event by then (by
 * effective date, recording time, id) is none, `moved_in` or `re_registered`.
 */
export async function registeredCountOn(tx: Tx, county: number, date: string): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await tx.execute(sql`
      WITH live AS (
        SELECT e.person_id, e.kind, e.effective_date, e.recorded_at, e.id
        FROM person_events e
        WHERE e.division_code = ${county} AND e.effective_date <= ${date}::date AND ${liveEvent('e')}
      ), last AS (
        SELECT DISTINCT ON (person_id) person_id, kind
        FROM live ORDER BY person_id, effective_date DESC, recorded_at DESC, id DESC
      ), dead AS (
        SELECT DISTINCT person_id FROM live WHERE kind = 'death'
      )
      SELECT count(*)::int AS n
      FROM persons p
      LEFT JOIN last l ON l.person_id = p.id
      WHERE p.division_code = ${county} AND p.registered_on <= ${date}::date
        AND NOT EXISTS (SELECT 1 FROM dead d WHERE d.person_id = p.id)
        AND (l.kind IS NULL OR l.kind IN ('moved_in', 're_registered'))`),
  );
  return Number(row?.n ?? 0);
}

export type RegistryVerification = typeof registryVerifications.$inferSelect;
export type NewRegistryVerification = RegistryVerification;

/** Serialises the verification submissions of one county until commit. */
export async function lockCountyVerifications(tx: Tx, county: number): Promise<void> {
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(hashtextextended(${`houfu.registry.verification:${county}`}, 0))`,
  );
}

export async function getRegistryVerification(
  tx: Tx,
  county: number,
  year: number,
): Promise<RegistryVerification | undefined> {
  const [row] = await tx
    .select()
    .from(registryVerifications)
    .where(and(eq(registryVerifications.divisionCode, county), eq(registryVerifications.year, year)));
  return row;
}

/** The latest year the county has verified after `year`, if any. */
export async function laterRegistryVerificationYear(
  tx: Tx,
  county: number,
  year: number,
): Promise<number | undefined> {
  const [row] = await tx
    .select({ year: sql<number>`max(${registryVerifications.year})::int` })
    .from(registryVerifications)
    .where(and(eq(registryVerifications.divisionCode, county), gt(registryVerifications.year, year)));
  return row?.year ?? undefined;
}

/** Inserts a verification; undefined when the county already submitted that year. */
export async function insertRegistryVerification(
  tx: Tx,
  row: NewRegistryVerification,
): Promise<RegistryVerification | undefined> {
  const [created] = await tx.insert(registryVerifications).values(row).onConflictDoNothing().returning();
  return created;
}

/**
 * Persons of a county with a live removal 核减 whose effective date falls in `year` (their status may
 * change when that year's verification is submitted, under the `annual_review` rule).
 */
export async function personsRemovedIn(tx: Tx, county: number, year: number): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(
    await tx.execute(sql`
      SELECT DISTINCT e.person_id::text AS id
      FROM person_events e
      WHERE e.division_code = ${county} AND e.kind = 'removed'
        AND e.effective_date BETWEEN ${`${year}-01-01`}::date AND ${`${year}-12-31`}::date
        AND ${liveEvent('e')}
      ORDER BY 1`),
  );
  return rows.map((r) => r.id);
}

export interface RegistryVerificationFilter {
  range: DivisionRange;
  year?: number | undefined;
  after?: { divisionCode: number; year: number } | undefined;
  limit: number;
}

export type RegistryVerificationWithName = RegistryVerification & { countyName: string | null };

/** Stored verifications in a range, by county then year, with the county's name. */
export async function listRegistryVerifications(
  tx: Tx,
  f: RegistryVerificationFilter,
): Promise<RegistryVerificationWithName[]> {
  const v = registryVerifications;
  const where: SQL[] = [sql`${v.divisionCode} BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.year !== undefined) where.push(eq(v.year, f.year));
  if (f.after) where.push(sql`(${v.divisionCode}, ${v.year}) > (${f.after.divisionCode}, ${f.after.year})`);
  const rows = await tx
    .select({
      verification: v,
      countyName: sql<string | null>`(SELECT d.name FROM divisions d WHERE d.code = ${v.divisionCode})`,
    })
    .from(v)
    .where(and(...where))
    .orderBy(asc(v.divisionCode), asc(v.year))
    .limit(f.limit);
  return rows.map((r) => ({ ...r.verification, countyName: r.countyName }));
}

export type RegistryGroupLevel = 'province' | 'city' | 'county';
export type RegistrySummaryLevel = RegistryGroupLevel | 'village';

/**
 * SQL for the unit a county code groups under: its province, its city (a county directly
 * administered by its province — city digits 90 — is its own unit), or the county itself.
 */
export function groupKey(level: RegistryGroupLevel, column: SQL): SQL {
  switch (level) {
    case 'province':
      return sql`((${column}) / 10000) * 10000`;
    case 'city':
      return sql`CASE WHEN ((${column}) / 100) % 100 = 90 THEN (${column}) ELSE ((${column}) / 100) * 100 END`;
    case 'county':
      return column;
  }
}

/** The dictionary units of a level within a range (the 90 pseudo-city's counties stand for themselves). */
export function divisionUnits(level: RegistryGroupLevel, range: DivisionRange): SQL {
  const within = sql`code BETWEEN ${range.lo} AND ${range.hi}`;
  switch (level) {
    case 'province':
      return sql`SELECT code, name, level FROM divisions WHERE level = 'province' AND ${within}`;
    case 'city':
      return sql`SELECT code, name, level FROM divisions WHERE ${within} AND
        ((level = 'city' AND (code / 100) % 100 <> 90) OR (level = 'county' AND (code / 100) % 100 = 90))`;
    case 'county':
      return sql`SELECT code, name, level FROM divisions WHERE level = 'county' AND ${within}`;
  }
}

export interface RegistryVerificationGroup {
  code: number;
  name: string | null;
  level: string | null;
  countiesExpected: number;
  countiesSubmitted: number;
  previousCount: number;
  deaths: number;
  removals: Record<RemovalReason, number>;
  movedOut: number;
  movedIn: number;
  reRegistered: number;
  verifiedCount: number;
}

/**
 * Verifications of one year summed per unit (province, city or county) of a range. A county is
 * expected to submit when it had anyone registered by 31 December of the year (or submitted anyway).
 * Units with no expected county are left out.
 */
export async function groupRegistryVerifications(
  tx: Tx,
  f: { range: DivisionRange; year: number; groupBy: RegistryGroupLevel },
): Promise<RegistryVerificationGroup[]> {
  const key = groupKey(f.groupBy, sql.raw('e.division_code'));
  const rows = rowsOf<Record<string, number | string | null>>(
    await tx.execute(sql`
      WITH v AS (
        SELECT * FROM registry_verifications
        WHERE year = ${f.year} AND division_code BETWEEN ${f.range.lo} AND ${f.range.hi}
      ), expected AS (
        SELECT DISTINCT division_code FROM persons
        WHERE division_code BETWEEN ${f.range.lo} AND ${f.range.hi} AND registered_on <= ${`${f.year}-12-31`}::date
        UNION
        SELECT division_code FROM v
      ), grouped AS (
        SELECT ${key} AS code,
               count(*)::int AS counties_expected,
               count(v.division_code)::int AS counties_submitted,
               coalesce(sum(v.previous_count), 0)::int AS previous_count,
               coalesce(sum(v.deaths), 0)::int AS deaths,
               coalesce(sum((v.removals ->> 'civil_servant')::int), 0)::int AS civil_servant,
               coalesce(sum((v.removals ->> 'non_agricultural_hukou')::int), 0)::int AS non_agricultural_hukou,
               coalesce(sum((v.removals ->> 'imprisonment')::int), 0)::int AS imprisonment,
               coalesce(sum((v.removals ->> 'other')::int), 0)::int AS other,
               coalesce(sum(v.moved_out), 0)::int AS moved_out,
               coalesce(sum(v.moved_in), 0)::int AS moved_in,
               coalesce(sum(v.re_registered), 0)::int AS re_registered,
               coalesce(sum(v.verified_count), 0)::int AS verified_count
        FROM expected e LEFT JOIN v ON v.division_code = e.division_code
        GROUP BY 1
      )
      SELECT g.*, d.name, d.level FROM grouped g LEFT JOIN divisions d ON d.code = g.code
      ORDER BY g.code`),
  );
  const n = (r: Record<string, unknown>, k: string) => Number(r[k] ?? 0);
  return rows.map((r) => ({
    code: n(r, 'code'),
    name: (r.name as string | null) ?? null,
    level: (r.level as string | null) ?? null,
    countiesExpected: n(r, 'counties_expected'),
    countiesSubmitted: n(r, 'counties_submitted'),
    previousCount: n(r, 'previous_count'),
    deaths: n(r, 'deaths'),
    removals: {
      civil_servant: n(r, 'civil_servant'),
      non_agricultural_hukou: n(r, 'non_agricultural_hukou'),
      imprisonment: n(r, 'imprisonment'),
      other: n(r, 'other'),
    },
    movedOut: n(r, 'moved_out'),
    movedIn: n(r, 'moved_in'),
    reRegistered: n(r, 're_registered'),
    verifiedCount: n(r, 'verified_count'),
  }));
}

// ── Public notice 公示 ──────────────────────────────────────────────────────────────────────────

export interface NoticePerson {
  id: string;
  householdNo: string;
  relationship: string;
  name: string;
  sex: 'male' | 'female';
  idMasked: string;
  relocateeKind: 'original' | 'other';
  relocationDate: string;
  registeredOn: string;
  birthDate: string;
}

export interface NoticeEvent {
  personId: string;
  id: string;
  kind: 'moved_in' | 'death' | 'moved_out' | 'removed' | 're_registered' | 'correction';
  effectiveDate: string;
  reason: RemovalReason | null;
  correctsId: string | null;
  recordedAt: string;
}

/**
 * The persons of a village registered on or before `until`, with every event of theirs (the caller
 * derives each one's status on a date). Two statements, both bounded by the village.
 */
export async function villageRegistry(
  tx: Tx,
  county: number,
  village: number,
  until: string,
): Promise<{ persons: NoticePerson[]; events: NoticeEvent[] }> {
  const persons = rowsOf<NoticePerson>(
    await tx.execute(sql`
      SELECT p.id::text AS "id", h.household_no AS "householdNo", p.relationship, p.name, p.sex,
             p.id_masked AS "idMasked", p.relocatee_kind AS "relocateeKind",
             to_char(p.relocation_date, 'YYYY-MM-DD') AS "relocationDate",
             to_char(p.registered_on, 'YYYY-MM-DD') AS "registeredOn",
             to_char(p.birth_date, 'YYYY-MM-DD') AS "birthDate"
      FROM persons p
      JOIN households h ON h.division_code = p.division_code AND h.id = p.household_id
      WHERE p.division_code = ${county} AND h.village_code = ${village} AND p.registered_on <= ${until}::date`),
  );
  const events = rowsOf<NoticeEvent>(
    await tx.execute(sql`
      SELECT e.person_id::text AS "personId", e.id::text AS "id", e.kind,
             to_char(e.effective_date, 'YYYY-MM-DD') AS "effectiveDate", e.reason,
             e.corrects_id::text AS "correctsId", ${isoTimestamp(sql.raw('e.recorded_at'), 'US')} AS "recordedAt"
      FROM person_events e
      JOIN persons p ON p.division_code = e.division_code AND p.id = e.person_id
      JOIN households h ON h.division_code = p.division_code AND h.id = p.household_id
      WHERE e.division_code = ${county} AND h.village_code = ${village}`),
  );
  return { persons, events };
}

/** A village (with its township's name) visible in the caller's scope. */
export async function getNoticeVillage(
  tx: Tx,
  county: number,
  village: number,
): Promise<
  { name: string; townshipCode: number; townshipName: string | null; countyName: string | null } | undefined
> {
  const [row] = rowsOf<{
    name: string;
    township_code: number;
    township_name: string | null;
    county_name: string | null;
  }>(
    await tx.execute(sql`
      SELECT v.name, v.township_code,
             (SELECT t.name FROM localities t WHERE t.division_code = v.division_code AND t.code = v.township_code)
               AS township_name,
             (SELECT d.name FROM divisions d WHERE d.code = v.division_code) AS county_name
      FROM localities v
      WHERE v.division_code = ${county} AND v.code = ${village} AND v.level = 'village'`),
  );
  return row
    ? {
        name: row.name,
        townshipCode: Number(row.township_code),
        townshipName: row.township_name,
        countyName: row.county_name,
      }
    : undefined;
}

// ── Cross-county conflicts 重复登记 ──────────────────────────────────────────────────────────────

export interface ConflictPage {
  status?: 'open' | 'resolved' | undefined;
  /** Keyset: detected_at (ISO), id. */
  after?: { detectedAt: string; id: string } | undefined;
  limit: number;
}

export interface CountyConflictSide {
  conflictId: string;
  status: 'open' | 'resolved';
  outcome: 'kept' | 'ended' | null;
  reviewerDivision: number;
  detectedAt: string;
  personId: string;
  personName: string;
  personIdMasked: string;
  personStatus: string;
}

/** A county's own side rows (its person only), oldest first. */
export async function listCountyConflictSides(
  tx: Tx,
  county: number,
  f: ConflictPage,
): Promise<CountyConflictSide[]> {
  return rowsOf<CountyConflictSide>(
    await tx.execute(sql`
      SELECT s.conflict_id::text AS "conflictId", s.status, s.outcome, s.reviewer_division AS "reviewerDivision",
             ${isoTimestamp(sql.raw('s.detected_at'))} AS "detectedAt",
             p.id::text AS "personId", p.name AS "personName", p.id_masked AS "personIdMasked",
             p.status AS "personStatus"
      FROM registry_conflict_sides s
      JOIN persons p ON p.division_code = s.division_code AND p.id = s.person_id
      WHERE s.division_code = ${county}
        ${f.status ? sql`AND s.status = ${f.status}` : sql``}
        ${f.after ? sql`AND (s.detected_at, s.conflict_id) > (${f.after.detectedAt}::timestamptz, ${f.after.id}::uuid)` : sql``}
      ORDER BY s.detected_at, s.conflict_id
      LIMIT ${f.limit}`),
  );
}

export interface ConflictSideView {
  countyCode: number;
  countyName: string | null;
  personId: string;
  name: string | null;
  idMasked: string | null;
  status: string | null;
  relocationDate: string | null;
  outcome: 'kept' | 'ended' | null;
}

export interface ReviewerConflict {
  id: string;
  divisionCode: number;
  idMasked: string;
  status: 'open' | 'resolved';
  detectedAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolution: Record<string, unknown> | null;
  a: ConflictSideView;
  b: ConflictSideView;
}

type ReviewerRow = Record<string, unknown>;

function reviewerConflictOf(r: ReviewerRow): ReviewerConflict {
  const side = (s: 'a' | 'b'): ConflictSideView => ({
    countyCode: Number(r[`county_${s}`]),
    countyName: (r[`${s}_county_name`] as string | null) ?? null,
    personId: String(r[`person_${s}`]),
    name: (r[`${s}_name`] as string | null) ?? null,
    idMasked: (r[`${s}_id_masked`] as string | null) ?? null,
    status: (r[`${s}_status`] as string | null) ?? null,
    relocationDate: (r[`${s}_relocation_date`] as string | null) ?? null,
    outcome: (r[`${s}_outcome`] as 'kept' | 'ended' | null) ?? null,
  });
  const resolution = r.resolution;
  return {
    id: String(r.id),
    divisionCode: Number(r.division_code),
    idMasked: String(r.id_masked),
    status: r.status as 'open' | 'resolved',
    detectedAt: String(r.detected_at),
    resolvedAt: (r.resolved_at as string | null) ?? null,
    resolvedBy: (r.resolved_by as string | null) ?? null,
    resolution:
      typeof resolution === 'string'
        ? (JSON.parse(resolution) as Record<string, unknown>)
        : ((resolution as Record<string, unknown> | null) ?? null),
    a: side('a'),
    b: side('b'),
  };
}

const reviewerSelect = sql`
  SELECT c.id::text AS id, c.division_code, c.id_masked, c.status, c.county_a, c.person_a::text AS person_a,
         c.county_b, c.person_b::text AS person_b, c.resolved_by, c.resolution,
         ${isoTimestamp(sql.raw('c.detected_at'))} AS detected_at,
         CASE WHEN c.resolved_at IS NULL THEN NULL ELSE ${isoTimestamp(sql.raw('c.resolved_at'))} END AS resolved_at,
         da.name AS a_county_name, pa.name AS a_name, pa.id_masked AS a_id_masked, pa.status AS a_status,
         to_char(pa.relocation_date, 'YYYY-MM-DD') AS a_relocation_date, sa.outcome AS a_outcome,
         db.name AS b_county_name, pb.name AS b_name, pb.id_masked AS b_id_masked, pb.status AS b_status,
         to_char(pb.relocation_date, 'YYYY-MM-DD') AS b_relocation_date, sb.outcome AS b_outcome
  FROM registry_conflicts c
  LEFT JOIN persons pa ON pa.division_code = c.county_a AND pa.id = c.person_a
  LEFT JOIN persons pb ON pb.division_code = c.county_b AND pb.id = c.person_b
  LEFT JOIN registry_conflict_sides sa ON sa.division_code = c.county_a AND sa.conflict_id = c.id
  LEFT JOIN registry_conflict_sides sb ON sb.division_code = c.county_b AND sb.conflict_id = c.id
  LEFT JOIN divisions da ON da.code = c.county_a
  LEFT JOIN divisions db ON db.code = c.county_b`;

/** The conflicts a reviewer (city, province, nation) sees in its range, both sides, oldest first. */
export async function listReviewerConflicts(
  tx: Tx,
  range: DivisionRange,
  f: ConflictPage,
): Promise<ReviewerConflict[]> {
  const rows = rowsOf<ReviewerRow>(
    await tx.execute(sql`${reviewerSelect}
      WHERE c.division_code BETWEEN ${range.lo} AND ${range.hi}
        ${f.status ? sql`AND c.status = ${f.status}` : sql``}
        ${f.after ? sql`AND (c.detected_at, c.id) > (${f.after.detectedAt}::timestamptz, ${f.after.id}::uuid)` : sql``}
      ORDER BY c.detected_at, c.id
      LIMIT ${f.limit}`),
  );
  return rows.map(reviewerConflictOf);
}

/** One conflict with both sides, as its reviewer sees it; undefined when not visible. */
export async function getReviewerConflict(tx: Tx, id: string): Promise<ReviewerConflict | undefined> {
  const [row] = rowsOf<ReviewerRow>(await tx.execute(sql`${reviewerSelect} WHERE c.id = ${id}::uuid`));
  return row ? reviewerConflictOf(row) : undefined;
}

export type RegistryConflictRow = typeof registryConflicts.$inferSelect;

/** Locks a visible conflict row until commit (resolutions serialise on it). */
export async function lockRegistryConflict(tx: Tx, id: string): Promise<RegistryConflictRow | undefined> {
  const [row] = await tx.select().from(registryConflicts).where(eq(registryConflicts.id, id)).for('update');
  return row;
}

/**
 * Marks an open conflict and both its sides resolved (the kept side `kept`, the other `ended`);
 * false when it was no longer open.
 */
export async function markRegistryConflictResolved(
  tx: Tx,
  conflict: Pick<RegistryConflictRow, 'divisionCode' | 'id' | 'countyA' | 'personA' | 'countyB' | 'personB'>,
  input: { keptPersonId: string; resolvedBy: string; resolvedAt: Date; resolution: Record<string, unknown> },
): Promise<boolean> {
  const updated = rowsOf<{ id: string }>(
    await tx.execute(sql`
      UPDATE registry_conflicts
      SET status = 'resolved', resolved_at = ${input.resolvedAt.toISOString()}::timestamptz,
          resolved_by = ${input.resolvedBy}, resolution = ${JSON.stringify(input.resolution)}::jsonb
      WHERE division_code = ${conflict.divisionCode} AND id = ${conflict.id}::uuid AND status = 'open'
      RETURNING id`),
  );
  if (updated.length === 0) return false;
  await tx.execute(sql`
    UPDATE registry_conflict_sides
    SET status = 'resolved',
        outcome = CASE WHEN person_id = ${input.keptPersonId}::uuid THEN 'kept' ELSE 'ended' END
    WHERE conflict_id = ${conflict.id}::uuid
      AND ((division_code = ${conflict.countyA} AND person_id = ${conflict.personA}::uuid)
        OR (division_code = ${conflict.countyB} AND person_id = ${conflict.personB}::uuid))`);
  return true;
}

// ── Summary by division ────────────────────────────────────────────────────────────────────────

/**
 * The support window of one province on the summary date, reduced to constants (computed by the
 * domain rule): persons moved on or before `cutoff` are all supported or all not (`byCutoff`);
 * those moved later are supported when moved on or after `minAfter` (and not after the date).
 */
export interface SupportWindowOnDate {
  province: number;
  cutoff: string;
  byCutoff: boolean;
  /** `9999-12-31` when nobody moved after the cutoff is supported. */
  minAfter: string;
}

export interface RegistrySummaryRow {
  code: number;
  name: string | null;
  registered: number;
  supported: number;
  deceased: number;
  movedOut: number;
  removed: number;
  households: number;
}

/**
 * Counts per unit (province, city, county or village) of a range, every unit of the dictionary (or
 * every village of the range's counties) included, zeros too: persons by current status, the
 * registered ones supported on `on` (registered by then and within their province's window), and
 * households with at least one registered member. One aggregate over the persons of the range.
 */
export async function registrySummary(
  tx: Tx,
  f: {
    range: DivisionRange;
    groupBy: RegistrySummaryLevel;
    on: string;
    windows: readonly SupportWindowOnDate[];
  },
): Promise<RegistrySummaryRow[]> {
  const village = f.groupBy === 'village';
  const key = village
    ? sql.raw('h.village_code')
    : groupKey(f.groupBy as RegistryGroupLevel, sql.raw('p.division_code'));
  const units = village
    ? sql`SELECT code, name, 'village' AS level FROM localities
          WHERE level = 'village' AND division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`
    : divisionUnits(f.groupBy as RegistryGroupLevel, f.range);
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`
      WITH rules AS (
        -- Sent as text arrays: postgres.js and PGlite serialise those alike.
        SELECT province::int AS province, cutoff::date AS cutoff, by_cutoff::boolean AS by_cutoff,
               min_after::date AS min_after
        FROM unnest(${sql.param(f.windows.map((w) => String(w.province)))}::text[],
                    ${sql.param(f.windows.map((w) => w.cutoff))}::text[],
                    ${sql.param(f.windows.map((w) => String(w.byCutoff)))}::text[],
                    ${sql.param(f.windows.map((w) => w.minAfter))}::text[])
          AS r(province, cutoff, by_cutoff, min_after)
      ), counts AS (
        SELECT ${key} AS code,
               count(*) FILTER (WHERE p.status = 'registered')::int AS registered,
               count(*) FILTER (WHERE p.status = 'registered' AND p.registered_on <= ${f.on}::date
                 AND p.relocation_date <= ${f.on}::date
                 AND ((p.relocation_date <= r.cutoff AND r.by_cutoff)
                   OR (p.relocation_date > r.cutoff AND p.relocation_date >= r.min_after)))::int AS supported,
               count(*) FILTER (WHERE p.status = 'deceased')::int AS deceased,
               count(*) FILTER (WHERE p.status = 'moved_out')::int AS moved_out,
               count(*) FILTER (WHERE p.status = 'removed')::int AS removed,
               count(DISTINCT p.household_id) FILTER (WHERE p.status = 'registered')::int AS households
        FROM persons p
        ${village ? sql`JOIN households h ON h.division_code = p.division_code AND h.id = p.household_id` : sql``}
        LEFT JOIN rules r ON r.province = (p.division_code / 10000) * 10000
        WHERE p.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}
        GROUP BY 1
      ), units AS (${units})
      SELECT coalesce(u.code, c.code) AS code, u.name,
             coalesce(c.registered, 0) AS registered, coalesce(c.supported, 0) AS supported,
             coalesce(c.deceased, 0) AS deceased, coalesce(c.moved_out, 0) AS moved_out,
             coalesce(c.removed, 0) AS removed, coalesce(c.households, 0) AS households
      FROM units u FULL JOIN counts c ON c.code = u.code
      ORDER BY 1`),
  );
  return rows.map((r) => ({
    code: Number(r.code),
    name: (r.name as string | null) ?? null,
    registered: Number(r.registered),
    supported: Number(r.supported),
    deceased: Number(r.deceased),
    movedOut: Number(r.moved_out),
    removed: Number(r.removed),
    households: Number(r.households),
  }));
}

/** Province codes of the dictionary within a range (the support rules are looked up per province). */
export async function provincesWithin(tx: Tx, range: DivisionRange): Promise<number[]> {
  const rows = rowsOf<{ code: number }>(
    await tx.execute(sql`SELECT code FROM divisions WHERE level = 'province'
      AND code BETWEEN ${range.lo - (range.lo % 10000)} AND ${range.hi}`),
  );
  return rows.map((r) => Number(r.code));
}
