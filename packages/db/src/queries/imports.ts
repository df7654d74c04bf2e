import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { importRows, imports, jobs, uploadChunks, uploads } from '../schema.js';
import { rowsOf } from '../tenant.js';

export type Upload = typeof uploads.$inferSelect;

/**
 * Runs set-based statements over a whole import with nested-loop joins disabled. Freshly staged rows
 * have no planner statistics, so the planner believes an import has one row and picks nested loops
 * that rescan a CTE or a table for every row (quadratic: 3.8 s for 4,000 rows on PGlite, hours for a
 * million); hash joins are what these statements need at any size. Restored afterwards, so that the
 * rest of the transaction (conflict detection across counties, audit) plans as usual.
 */
async function withHashJoins<T>(tx: Tx, work: () => Promise<T>): Promise<T> {
  await tx.execute(sql`SET LOCAL enable_nestloop = off`);
  const result = await work();
  await tx.execute(sql`SET LOCAL enable_nestloop TO DEFAULT`);
  return result;
}
export type ImportRecord = typeof imports.$inferSelect;
export type ImportRowRecord = typeof importRows.$inferSelect;

// ── Uploads ────────────────────────────────────────────────────────────────────────────────────

export async function insertUpload(
  tx: Tx,
  row: Pick<Upload, 'divisionCode' | 'mediaType' | 'filename' | 'createdBy'>,
): Promise<Upload> {
  const [created] = await tx.insert(uploads).values(row).returning();
  if (!created) throw new Error('upload not inserted');
  return created;
}

export async function insertUploadChunk(
  tx: Tx,
  upload: { divisionCode: number; id: string },
  seq: number,
  data: Buffer,
): Promise<void> {
  // Hex text, decoded by the server: postgres.js and PGlite agree on text parameters.
  await tx.execute(sql`
    INSERT INTO upload_chunks (division_code, upload_id, seq, data)
    VALUES (${upload.divisionCode}, ${upload.id}, ${seq}, decode(${data.toString('hex')}, 'hex'))`);
}

export async function finishUpload(
  tx: Tx,
  upload: { divisionCode: number; id: string },
  sha256: string,
  sizeBytes: number,
): Promise<void> {
  await tx
    .update(uploads)
    .set({ sha256, sizeBytes })
    .where(and(eq(uploads.divisionCode, upload.divisionCode), eq(uploads.id, upload.id)));
}

export async function getUpload(tx: Tx, divisionCode: number, id: string): Promise<Upload | undefined> {
  const [row] = await tx
    .select()
    .from(uploads)
    .where(and(eq(uploads.divisionCode, divisionCode), eq(uploads.id, id)));
  return row;
}

/**
 * Deletes the stored bytes of an upload (its chunks), keeping the `uploads` row (name, media type,
 * size, SHA-256): once its import has completed or failed for good, a file full of ID numbers and
 * bank accounts in clear is not kept. An upload with a SHA-256 and no chunks is a purged one.
 * Returns how many chunks were deleted.
 */
export async function purgeUploadChunks(
  tx: Tx,
  upload: { divisionCode: number; id: string },
): Promise<number> {
  const deleted = await tx
    .delete(uploadChunks)
    .where(and(eq(uploadChunks.divisionCode, upload.divisionCode), eq(uploadChunks.uploadId, upload.id)))
    .returning({ seq: uploadChunks.seq });
  return deleted.length;
}

/** One chunk's bytes, or undefined past the last one. */
export async function readUploadChunk(
  tx: Tx,
  upload: { divisionCode: number; id: string },
  seq: number,
): Promise<Buffer | undefined> {
  const [row] = await tx
    .select({ data: uploadChunks.data })
    .from(uploadChunks)
    .where(
      and(
        eq(uploadChunks.divisionCode, upload.divisionCode),
        eq(uploadChunks.uploadId, upload.id),
        eq(uploadChunks.seq, seq),
      ),
    );
  return row ? Buffer.from(row.data as Uint8Array) : undefined;
}

// ── Imports ────────────────────────────────────────────────────────────────────────────────────

export async function insertImport(
  tx: Tx,
  row: Pick<ImportRecord, 'divisionCode' | 'jobId' | 'uploadId' | 'format' | 'createdBy'> & { id?: string },
): Promise<ImportRecord> {
  const [created] = await tx.insert(imports).values(row).returning();
  if (!created) throw new Error('import not inserted');
  return created;
}

/** An import with its file and job, as the API shows it. */
export interface ImportView extends ImportRecord {
  filename: string | null;
  mediaType: string;
  sizeBytes: number;
  sha256: string | null;
  jobStatus: string;
}

const importView = {
  divisionCode: imports.divisionCode,
  id: imports.id,
  jobId: imports.jobId,
  uploadId: imports.uploadId,
  format: imports.format,
  status: imports.status,
  rowsTotal: imports.rowsTotal,
  rowsAccepted: imports.rowsAccepted,
  rowsRejected: imports.rowsRejected,
  error: imports.error,
  createdBy: imports.createdBy,
  createdAt: imports.createdAt,
  completedAt: imports.completedAt,
  filename: uploads.filename,
  mediaType: uploads.mediaType,
  sizeBytes: uploads.sizeBytes,
  sha256: uploads.sha256,
  jobStatus: jobs.status,
};

/** Imports with their upload and job; `cursorAt` is the exact created_at as text (µs), for keysets. */
function selectImports(tx: Tx) {
  return tx
    .select({
      ...importView,
      cursorAt: sql<string>`to_char(${imports.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(imports)
    .innerJoin(uploads, and(eq(uploads.divisionCode, imports.divisionCode), eq(uploads.id, imports.uploadId)))
    .innerJoin(jobs, and(eq(jobs.divisionCode, imports.divisionCode), eq(jobs.id, imports.jobId)));
}

/** One import by id, as far as the scope sees (RLS). */
export async function getImport(tx: Tx, id: string): Promise<ImportView | undefined> {
  const [row] = await selectImports(tx).where(eq(imports.id, id));
  return row;
}

export interface ImportFilter {
  /** Keyset: rows strictly older than this (created_at as PostgreSQL text, then id). */
  before?: { createdAt: string; id: string } | undefined;
  limit: number;
}

/** Imports in scope, newest first; each with `cursorAt`, its exact created_at as text (µs). */
export async function listImports(tx: Tx, f: ImportFilter): Promise<(ImportView & { cursorAt: string })[]> {
  const before = f.before
    ? sql`(${imports.createdAt}, ${imports.id}) < (${f.before.createdAt}::timestamptz, ${f.before.id}::uuid)`
    : undefined;
  return selectImports(tx).where(before).orderBy(desc(imports.createdAt), desc(imports.id)).limit(f.limit);
}

export async function setImportStatus(
  tx: Tx,
  imp: { divisionCode: number; id: string },
  patch: Partial<Pick<ImportRecord, 'status' | 'rowsTotal' | 'rowsAccepted' | 'rowsRejected' | 'error'>> & {
    completed?: boolean;
  },
): Promise<void> {
  const { completed, ...rest } = patch;
  await tx
    .update(imports)
    .set({ ...rest, ...(completed ? { completedAt: sql`now()` } : {}) })
    .where(and(eq(imports.divisionCode, imp.divisionCode), eq(imports.id, imp.id)));
}

// ── Staged rows ────────────────────────────────────────────────────────────────────────────────

/** One parsed row, sealed and masked, with the errors the row rules found. */
export interface StagedImportRow {
  rowNo: number;
  householdNo: string | null;
  relationship: string | null;
  name: string | null;
  idHash: Buffer | null;
  idSealed: Buffer | null;
  idMasked: string | null;
  sex: string | null;
  birthDate: string | null;
  reservoir: string | null;
  relocationDate: string | null;
  relocateeKind: string | null;
  villageCode: number | null;
  bankName: string | null;
  bankAccountSealed: Buffer | null;
  bankAccountMasked: string | null;
  errors: readonly string[];
  /** The id the person will get if the row is imported (assigned up front, so applying writes no row back). */
  personId: string | null;
}

const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'));
/** Error codes are plain identifiers, so a `{a,b}` array literal needs no quoting. */
const arrayLiteral = (codes: readonly string[]) => `{${codes.join(',')}}`;

/**
 * Inserts a batch of staged rows in one statement (arrays bound as parameters and unnested: one
 * round trip, no per-row statements). Rows already staged (same row number) are left as they are.
 */
export async function stageImportRows(
  tx: Tx,
  imp: { divisionCode: number; id: string },
  rows: readonly StagedImportRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const col = <T>(f: (r: StagedImportRow) => T) => sql.param(rows.map(f));
  const inserted = rowsOf<{ row_no: number }>(
    await tx.execute(sql`
      INSERT INTO import_rows (division_code, import_id, row_no, household_no, relationship, name, id_hash,
        id_sealed, id_masked, sex, birth_date, reservoir, relocation_date, relocatee_kind, village_code,
        bank_name, bank_account_sealed, bank_account_masked, errors, person_id)
      SELECT ${imp.divisionCode}::int, ${imp.id}::uuid, t.row_no, t.household_no, t.relationship, t.name,
        decode(t.id_hash, 'hex'), decode(t.id_sealed, 'hex'), t.id_masked, t.sex, t.birth_date::date, t.reservoir,
        t.relocation_date::date, t.relocatee_kind, t.village_code, t.bank_name, decode(t.bank_sealed, 'hex'),
        t.bank_masked, t.errors::text[], t.person_id::uuid
      FROM unnest(${col((r) => r.rowNo)}::int[], ${col((r) => r.householdNo)}::text[],
        ${col((r) => r.relationship)}::text[], ${col((r) => r.name)}::text[], ${col((r) => hex(r.idHash))}::text[],
        ${col((r) => hex(r.idSealed))}::text[], ${col((r) => r.idMasked)}::text[], ${col((r) => r.sex)}::text[],
        ${col((r) => r.birthDate)}::text[], ${col((r) => r.reservoir)}::text[], ${col((r) => r.relocationDate)}::text[],
        ${col((r) => r.relocateeKind)}::text[], ${col((r) => r.villageCode)}::bigint[], ${col((r) => r.bankName)}::text[],
        ${col((r) => hex(r.bankAccountSealed))}::text[], ${col((r) => r.bankAccountMasked)}::text[],
        ${col((r) => arrayLiteral(r.errors))}::text[], ${col((r) => r.personId)}::text[])
        AS t(row_no, household_no, relationship, name, id_hash, id_sealed, id_masked, sex, birth_date, reservoir,
             relocation_date, relocatee_kind, village_code, bank_name, bank_sealed, bank_masked, errors, person_id)
      ON CONFLICT DO NOTHING
      RETURNING row_no`),
  );
  return inserted.length;
}

/**
 * The checks that need the whole file and the registry, set-based in one statement. File-internal
 * checks consider only rows that passed the row rules (a row rejected anyway does not count against
 * the others):
 * - `duplicate_in_file`: the same ID as an earlier row (the first occurrence is kept);
 * - `household_villages_differ`: the rows of one 户编号 name different villages (all of them rejected);
 * - `household_multiple_heads`: more than one 户主 in a household in the file, or a 户主 row for a
 *   household whose registered head (another person) is still registered (every such 户主 row
 *   rejected);
 * and against the registry, for every row:
 * - `already_registered`: the county already has this ID (any status; re-registration is an event);
 * - `village_unknown`: not an active village of the county;
 * - `household_village_mismatch`: the 户编号 is registered in another village.
 * Rejected rows lose their pre-assigned person id. Then `household_without_head` warns the accepted
 * rows of a new household that has no accepted 户主. Returns how many rows the checks rejected.
 */
export async function checkImportRows(tx: Tx, imp: { divisionCode: number; id: string }): Promise<number> {
  const c = imp.divisionCode;
  // One pass over the import's rows: the window functions count only rows that passed the row rules
  // (FILTER, or a partition of their own), then index lookups into persons, localities, households.
  return withHashJoins(tx, async () => {
    const rejected = rowsOf<{ row_no: number }>(
      await tx.execute(sql`
      WITH r AS (
        SELECT row_no, id_hash, household_no, relationship, village_code, errors = '{}' AS valid,
               row_number() OVER (PARTITION BY errors = '{}', id_hash ORDER BY row_no) AS occurrence,
               min(village_code) FILTER (WHERE errors = '{}') OVER hh AS village_min,
               max(village_code) FILTER (WHERE errors = '{}') OVER hh AS village_max,
               count(*) FILTER (WHERE errors = '{}' AND relationship = 'head') OVER hh AS heads
        FROM import_rows WHERE division_code = ${c} AND import_id = ${imp.id}
        WINDOW hh AS (PARTITION BY household_no)
      ), found AS MATERIALIZED (
        SELECT r.row_no, array_remove(ARRAY[
          CASE WHEN r.valid AND r.id_hash IS NOT NULL AND r.occurrence > 1 THEN 'duplicate_in_file' END,
          CASE WHEN p.id IS NOT NULL THEN 'already_registered' END,
          CASE WHEN r.village_code IS NOT NULL AND l.code IS NULL THEN 'village_unknown' END,
          CASE WHEN h.village_code <> r.village_code THEN 'household_village_mismatch' END,
          CASE WHEN r.valid AND r.village_min <> r.village_max THEN 'household_villages_differ' END,
          CASE WHEN r.valid AND r.relationship = 'head'
                    AND (r.heads > 1 OR (eh.hashes IS NOT NULL AND eh.hashes <> ARRAY[r.id_hash]))
            THEN 'household_multiple_heads' END
        ]::text[], NULL) AS errors
        FROM r
        LEFT JOIN persons p ON p.division_code = ${c} AND p.id_hash = r.id_hash
        LEFT JOIN localities l ON l.division_code = ${c} AND l.code = r.village_code
                                AND l.level = 'village' AND l.active
        LEFT JOIN households h ON h.division_code = ${c} AND h.household_no = r.household_no
        LEFT JOIN (
          SELECT household_id, array_agg(id_hash) AS hashes FROM persons
          WHERE division_code = ${c} AND relationship = 'head' AND status = 'registered'
          GROUP BY household_id
        ) eh ON eh.household_id = h.id
      )
      UPDATE import_rows t SET errors = t.errors || found.errors, person_id = NULL
      FROM found
      WHERE t.division_code = ${c} AND t.import_id = ${imp.id} AND t.row_no = found.row_no
        AND cardinality(found.errors) > 0
      RETURNING t.row_no`),
    );
    await tx.execute(sql`
    UPDATE import_rows t SET warnings = t.warnings || '{household_without_head}'::text[]
    WHERE t.division_code = ${c} AND t.import_id = ${imp.id} AND t.errors = '{}'
      AND t.household_no IN (
        SELECT household_no FROM import_rows
        WHERE division_code = ${c} AND import_id = ${imp.id} AND errors = '{}'
        GROUP BY household_no HAVING count(*) FILTER (WHERE relationship = 'head') = 0)
      AND NOT EXISTS (SELECT 1 FROM households h WHERE h.division_code = ${c} AND h.household_no = t.household_no)`);
    return rejected.length;
  });
}

export interface AppliedImport {
  total: number;
  accepted: number;
  rejected: number;
  householdsCreated: number;
  /** Imported persons whose ID another county also has registered (conflicts opened for review). */
  registeredElsewhere: number;
}

/**
 * Applies the accepted rows of a checked import, in the caller's transaction: imports of one county
 * are serialised (advisory lock), the county's active villages are locked FOR SHARE, the missing
 * households are created, the persons inserted straight from the staged rows (`INSERT … SELECT`), and
 * any row that a concurrent change made invalid since the check is rejected instead (already
 * registered, or its household now sits in another village). Then cross-county conflicts are opened
 * and their rows warned `registered_elsewhere`. Either all of it commits or none.
 */
export async function applyImportRows(
  tx: Tx,
  imp: { divisionCode: number; id: string },
): Promise<AppliedImport> {
  const c = imp.divisionCode;
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`houfu.registry.import:${c}`}, 0))`);
  await tx.execute(sql`
    SELECT code FROM localities WHERE division_code = ${c} AND level = 'village' AND active FOR SHARE`);
  const households = await withHashJoins(tx, async () => {
    // Rows a concurrent change made invalid since the check are turned away (counted as rejected).
    await tx.execute(sql`
      UPDATE import_rows t SET errors = t.errors || '{village_unknown}'::text[], person_id = NULL
      WHERE t.division_code = ${c} AND t.import_id = ${imp.id} AND t.errors = '{}'
        AND NOT EXISTS (SELECT 1 FROM localities l WHERE l.division_code = ${c} AND l.code = t.village_code
                          AND l.level = 'village' AND l.active)`);
    const created = rowsOf<{ id: string }>(
      await tx.execute(sql`
      INSERT INTO households (division_code, household_no, village_code)
      SELECT DISTINCT ON (household_no) ${c}::int, household_no, village_code
      FROM import_rows WHERE division_code = ${c} AND import_id = ${imp.id} AND errors = '{}'
      ORDER BY household_no, row_no
      ON CONFLICT (division_code, household_no) DO NOTHING
      RETURNING id`),
    );
    await tx.execute(sql`
      WITH inserted AS (
        INSERT INTO persons (division_code, id, household_id, relationship, name, id_hash, id_sealed, id_masked,
          sex, birth_date, reservoir, relocation_date, relocatee_kind, registered_on, bank_name,
          bank_account_sealed, bank_account_masked, import_id)
        SELECT r.division_code, r.person_id, h.id, r.relationship, r.name, r.id_hash, r.id_sealed, r.id_masked,
          r.sex, r.birth_date, r.reservoir, r.relocation_date, r.relocatee_kind, r.relocation_date, r.bank_name,
          r.bank_account_sealed, r.bank_account_masked, r.import_id
        FROM import_rows r
        JOIN households h ON h.division_code = r.division_code AND h.household_no = r.household_no
                         AND h.village_code = r.village_code
        WHERE r.division_code = ${c} AND r.import_id = ${imp.id} AND r.errors = '{}'
        ON CONFLICT (division_code, id_hash) DO NOTHING
        RETURNING id
      )
      UPDATE import_rows t SET person_id = NULL, errors = t.errors || CASE
          WHEN EXISTS (SELECT 1 FROM persons p WHERE p.division_code = t.division_code AND p.id_hash = t.id_hash)
          THEN '{already_registered}'::text[] ELSE '{household_village_mismatch}'::text[] END
      WHERE t.division_code = ${c} AND t.import_id = ${imp.id} AND t.errors = '{}'
        AND NOT EXISTS (SELECT 1 FROM inserted i WHERE i.id = t.person_id)`);
    return created;
  });
  // Without fresh statistics (right after a bulk insert) the planner combines the status index into
  // a bitmap for every person looked up (~1 s per 1,000 persons per 40,000 registered); the id_hash
  // index alone is what the cross-county lookup needs.
  await tx.execute(sql`SET LOCAL enable_bitmapscan = off`);
  const [opened] = rowsOf<{ opened: number }>(
    await tx.execute(sql`
      SELECT registry_detect_conflicts(${c}::int, ARRAY(
        SELECT person_id FROM import_rows
        WHERE division_code = ${c} AND import_id = ${imp.id} AND person_id IS NOT NULL)) AS opened`),
  );
  await tx.execute(sql`SET LOCAL enable_bitmapscan TO DEFAULT`);
  let registeredElsewhere = 0;
  if (Number(opened?.opened ?? 0) > 0) {
    registeredElsewhere = await withHashJoins(
      tx,
      async () =>
        rowsOf<{ row_no: number }>(
          await tx.execute(sql`
        UPDATE import_rows t SET warnings = t.warnings || '{registered_elsewhere}'::text[]
        FROM registry_conflict_sides s
        WHERE s.division_code = ${c} AND s.person_id = t.person_id AND s.status = 'open'
          AND t.division_code = ${c} AND t.import_id = ${imp.id}
        RETURNING t.row_no`),
        ).length,
    );
  }
  const counts = await importRowCounts(tx, imp);
  return {
    ...counts,
    householdsCreated: households.length,
    registeredElsewhere,
  };
}

export async function importRowCounts(
  tx: Tx,
  imp: { divisionCode: number; id: string },
): Promise<{ total: number; accepted: number; rejected: number }> {
  const [row] = rowsOf<{ total: number | string; accepted: number | string }>(
    await tx.execute(sql`
      SELECT count(*) AS total, count(*) FILTER (WHERE errors = '{}') AS accepted
      FROM import_rows WHERE division_code = ${imp.divisionCode} AND import_id = ${imp.id}`),
  );
  const total = Number(row?.total ?? 0);
  const accepted = Number(row?.accepted ?? 0);
  return { total, accepted, rejected: total - accepted };
}

/** A page of an import's rows in row order (the report), after `afterRowNo`. */
export async function importReportPage(
  tx: Tx,
  imp: { divisionCode: number; id: string },
  afterRowNo: number,
  limit: number,
): Promise<
  Pick<ImportRowRecord, 'rowNo' | 'name' | 'idMasked' | 'errors' | 'warnings' | 'personId' | 'householdNo'>[]
> {
  return tx
    .select({
      rowNo: importRows.rowNo,
      name: importRows.name,
      idMasked: importRows.idMasked,
      errors: importRows.errors,
      warnings: importRows.warnings,
      personId: importRows.personId,
      householdNo: importRows.householdNo,
    })
    .from(importRows)
    .where(
      and(
        eq(importRows.divisionCode, imp.divisionCode),
        eq(importRows.importId, imp.id),
        gt(importRows.rowNo, afterRowNo),
      ),
    )
    .orderBy(asc(importRows.rowNo))
    .limit(limit);
}
