import { type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { rowsOf } from '../tenant.js';
import type { DivisionRange } from './registry.js';

/*
 * Vocational education aid applications 移民子女职业教育资助申请 (0009_vocational_aid.sql). The rules live
 * in packages/domain/src/training.ts and are applied by the API; these functions only read and write.
 * The child's ID hash and sealed ID cross the driver boundary as hex text, dates as `YYYY-MM-DD`,
 * timestamps as ISO text, fen as numbers (bigints cast to text first).
 */

export interface VocationalAidApplication {
  divisionCode: number;
  id: string;
  townshipCode: number;
  villageCode: number;
  childName: string;
  childIdMasked: string;
  childBirthDate: string;
  parentPersonId: string | null;
  parentName: string | null;
  school: string;
  level: string;
  schoolYear: number;
  recognisedCostFen: number | null;
  requestedFen: number;
  appliedOn: string;
  status: string;
  postingFrom: string | null;
  postingTo: string | null;
  postingPlace: string | null;
  townshipReviewer: string | null;
  townshipReviewedOn: string | null;
  townshipComment: string | null;
  paidFen: number | null;
  paidOn: string | null;
  paymentReference: string | null;
  rejectionReason: string | null;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedBy: string;
  updatedAt: string;
  countyName: string | null;
}

const ts = (column: string) =>
  sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

const columns = sql`a.division_code, a.id, a.township_code::text AS township_code, a.village_code::text AS village_code,
  a.child_name, a.child_id_masked, a.child_birth_date::text AS child_birth_date, a.parent_person_id,
  (SELECT p.name FROM persons p WHERE p.division_code = a.division_code AND p.id = a.parent_person_id) AS parent_name,
  a.school, a.level, a.school_year, a.recognised_cost_fen::text AS recognised_cost_fen,
  a.requested_fen::text AS requested_fen, a.applied_on::text AS applied_on, a.status,
  a.posting_from::text AS posting_from, a.posting_to::text AS posting_to, a.posting_place,
  a.township_reviewer, a.township_reviewed_on::text AS township_reviewed_on, a.township_comment,
  a.paid_fen::text AS paid_fen, a.paid_on::text AS paid_on, a.payment_reference, a.rejection_reason,
  a.version, a.created_by, ${ts('a.created_at')} AS created_at, a.updated_by, ${ts('a.updated_at')} AS updated_at,
  (SELECT d.name FROM divisions d WHERE d.code = a.division_code) AS county_name`;

const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toApplication(r: Record<string, unknown>): VocationalAidApplication {
  return {
    divisionCode: Number(r.division_code),
    id: String(r.id),
    townshipCode: Number(r.township_code),
    villageCode: Number(r.village_code),
    childName: String(r.child_name),
    childIdMasked: String(r.child_id_masked),
    childBirthDate: String(r.child_birth_date),
    parentPersonId: str(r.parent_person_id),
    parentName: str(r.parent_name),
    school: String(r.school),
    level: String(r.level),
    schoolYear: Number(r.school_year),
    recognisedCostFen: num(r.recognised_cost_fen),
    requestedFen: Number(r.requested_fen),
    appliedOn: String(r.applied_on),
    status: String(r.status),
    postingFrom: str(r.posting_from),
    postingTo: str(r.posting_to),
    postingPlace: str(r.posting_place),
    townshipReviewer: str(r.township_reviewer),
    townshipReviewedOn: str(r.township_reviewed_on),
    townshipComment: str(r.township_comment),
    paidFen: num(r.paid_fen),
    paidOn: str(r.paid_on),
    paymentReference: str(r.payment_reference),
    rejectionReason: str(r.rejection_reason),
    version: Number(r.version),
    createdBy: String(r.created_by),
    createdAt: String(r.created_at),
    updatedBy: String(r.updated_by),
    updatedAt: String(r.updated_at),
    countyName: str(r.county_name),
  };
}

/**
 * Serialises every write about one child in a county (a new application, a payment) until the
 * transaction ends, so that two requests cannot both count the same earlier years.
 */
export async function lockAidChild(tx: Tx, county: number, childIdHash: Buffer): Promise<void> {
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(7344, hashtext(${`${county}:${childIdHash.toString('hex')}`}))`,
  );
}

/** The school years already paid to the child (by ID hash) in the county, other than `exceptId`. */
export async function aidedSchoolYears(
  tx: Tx,
  county: number,
  childIdHash: Buffer,
  exceptId?: string,
): Promise<number[]> {
  const rows = rowsOf<{ school_year: number }>(
    await tx.execute(sql`SELECT DISTINCT school_year FROM vocational_aid_applications
      WHERE division_code = ${county} AND child_id_hash = decode(${childIdHash.toString('hex')}, 'hex')
        AND status = 'paid' ${exceptId ? sql`AND id <> ${exceptId}::uuid` : sql``}
      ORDER BY school_year`),
  );
  return rows.map((r) => Number(r.school_year));
}

/** The child's ID hash of an application (for the lock and the earlier years). */
export async function aidChildHash(
  tx: Tx,
  app: Pick<VocationalAidApplication, 'divisionCode' | 'id'>,
): Promise<Buffer> {
  const [row] = rowsOf<{ h: string }>(
    await tx.execute(sql`SELECT encode(child_id_hash, 'hex') AS h FROM vocational_aid_applications
      WHERE division_code = ${app.divisionCode} AND id = ${app.id}::uuid`),
  );
  if (!row) throw new Error('application not found');
  return Buffer.from(row.h, 'hex');
}

export interface NewVocationalAidApplication {
  divisionCode: number;
  townshipCode: number;
  villageCode: number;
  childName: string;
  childIdHash: Buffer;
  childIdSealed: Buffer;
  childIdMasked: string;
  childBirthDate: string;
  parentPersonId: string | null;
  school: string;
  level: string;
  schoolYear: number;
  recognisedCostFen: number | null;
  requestedFen: number;
  appliedOn: string;
  createdBy: string;
}

/** Inserts an application (status `applied`); undefined when the child already has a live one that year. */
export async function insertVocationalAidApplication(
  tx: Tx,
  a: NewVocationalAidApplication,
): Promise<string | undefined> {
  const [row] = rowsOf<{ id: string }>(
    await tx.execute(sql`INSERT INTO vocational_aid_applications
        (division_code, township_code, village_code, child_name, child_id_hash, child_id_sealed, child_id_masked,
         child_birth_date, parent_person_id, school, level, school_year, recognised_cost_fen, requested_fen,
         applied_on, created_by, updated_by)
      VALUES (${a.divisionCode}, ${a.townshipCode}, ${a.villageCode}, ${a.childName},
              decode(${a.childIdHash.toString('hex')}, 'hex'), decode(${a.childIdSealed.toString('hex')}, 'hex'),
              ${a.childIdMasked}, ${a.childBirthDate}::date, ${a.parentPersonId}::uuid, ${a.school}, ${a.level},
              ${a.schoolYear}, ${a.recognisedCostFen}, ${a.requestedFen}, ${a.appliedOn}::date, ${a.createdBy},
              ${a.createdBy})
      ON CONFLICT (division_code, child_id_hash, school_year) WHERE status <> 'rejected' DO NOTHING
      RETURNING id`),
  );
  return row ? String(row.id) : undefined;
}

/** One application by id as far as the scope sees; `lock` takes the row lock (every change does). */
export async function getVocationalAidApplication(
  tx: Tx,
  id: string,
  options: { lock?: boolean } = {},
): Promise<VocationalAidApplication | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${columns} FROM vocational_aid_applications a WHERE a.id = ${id}::uuid
      ${options.lock ? sql`FOR UPDATE OF a` : sql``}`),
  );
  return row ? toApplication(row) : undefined;
}

export interface VocationalAidFilter {
  range: DivisionRange;
  county?: number | undefined;
  status?: string | undefined;
  schoolYear?: number | undefined;
  after?: { divisionCode: number; createdAt: string; id: string } | undefined;
  limit: number;
}

/** Applications in a range, by county, then oldest first. */
export async function listVocationalAidApplications(
  tx: Tx,
  f: VocationalAidFilter,
): Promise<VocationalAidApplication[]> {
  const where: SQL[] = [sql`a.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.county !== undefined) where.push(sql`a.division_code = ${f.county}`);
  if (f.status !== undefined) where.push(sql`a.status = ${f.status}`);
  if (f.schoolYear !== undefined) where.push(sql`a.school_year = ${f.schoolYear}`);
  if (f.after) {
    where.push(sql`(a.division_code, a.created_at, a.id) > (${f.after.divisionCode}, ${f.after.createdAt}::timestamptz,
      ${f.after.id}::uuid)`);
  }
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${columns} FROM vocational_aid_applications a
      WHERE ${sql.join(where, sql` AND `)}
      ORDER BY a.division_code, a.created_at, a.id LIMIT ${f.limit}`),
  );
  return rows.map(toApplication);
}

/** The columns a step may set (undefined: unchanged). */
export interface VocationalAidUpdate {
  status?: string;
  postingFrom?: string;
  postingTo?: string;
  postingPlace?: string | null;
  townshipReviewer?: string;
  townshipReviewedOn?: string;
  townshipComment?: string | null;
  paidFen?: number;
  paidOn?: string;
  paymentReference?: string;
  rejectionReason?: string;
}

/** Applies `set`, bumps the version and records who changed it. */
export async function updateVocationalAidApplication(
  tx: Tx,
  app: Pick<VocationalAidApplication, 'divisionCode' | 'id'>,
  set: VocationalAidUpdate,
  by: string,
): Promise<void> {
  const parts: SQL[] = [sql`version = version + 1`, sql`updated_at = now()`, sql`updated_by = ${by}`];
  const col = (name: string, value: unknown, cast = '') => {
    if (value !== undefined) parts.push(sql`${sql.raw(name)} = ${value}${sql.raw(cast)}`);
  };
  col('status', set.status);
  col('posting_from', set.postingFrom, '::date');
  col('posting_to', set.postingTo, '::date');
  col('posting_place', set.postingPlace);
  col('township_reviewer', set.townshipReviewer);
  col('township_reviewed_on', set.townshipReviewedOn, '::date');
  col('township_comment', set.townshipComment);
  col('paid_fen', set.paidFen);
  col('paid_on', set.paidOn, '::date');
  col('payment_reference', set.paymentReference);
  col('rejection_reason', set.rejectionReason);
  await tx.execute(sql`UPDATE vocational_aid_applications SET ${sql.join(parts, sql`, `)}
    WHERE division_code = ${app.divisionCode} AND id = ${app.id}::uuid`);
}
