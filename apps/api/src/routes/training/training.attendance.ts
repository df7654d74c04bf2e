/**
 * Attendance imports 参训人员名单导入: a session's list of trainees (CSV or XLSX, read by the registry
 * imports' reader) matched against the county's registry by the keyed hash of the ID number, in the
 * request's one tenant-scoped transaction. No full ID number is ever returned, logged or audited.
 */
import {
  appendAudit,
  countyPersonsByIdHash,
  getTrainingSession,
  linkTrainingSessionPersons,
  lockTrainingSessionAttendance,
  type TrainingSessionRow,
} from '@houfu/db';
import {
  divisionLevel,
  type ImportCell,
  isBlankImportRow,
  maskNationalId,
  type NationalIdError,
  parseNationalId,
  scrubSensitive,
} from '@houfu/domain';
import { today } from '../../lib/dates.js';
import { ApiError } from '../../lib/problem.js';
import type { ServiceContext } from '../../lib/service-context.js';
import {
  type CsvCharset,
  type FileRow,
  type ImportFormat,
  readFileRows,
  UnreadableFileError,
} from '../imports/imports.reader.js';

/** The largest attendance list accepted (bytes); 413 beyond. */
export const ATTENDANCE_MAX_BYTES = 2 * 1024 * 1024;
/** The most data rows of one list; 422 `too_many_rows` beyond. */
export const ATTENDANCE_MAX_ROWS = 5_000;

export type AttendanceColumnKey = 'name' | 'national_id' | 'village' | 'note';

export const attendanceColumns: readonly {
  key: AttendanceColumnKey;
  header: string;
  required: boolean;
  description: string;
}[] = Object.freeze([
  { key: 'name', header: '姓名', required: true, description: '参训人员姓名，须与移民名册登记的姓名一致。' },
  {
    key: 'national_id',
    header: '身份证号',
    required: true,
    description: '18位居民身份证号码（校验码须正确）；请设为文本格式。',
  },
  { key: 'village', header: '村', required: false, description: '所在村，仅供核对，不保存。' },
  { key: 'note', header: '备注', required: false, description: '备注，不保存。' },
]);

export const attendanceOutcomes = ['linked', 'already_linked', 'not_registered', 'invalid'] as const;
export type AttendanceOutcome = (typeof attendanceOutcomes)[number];

/** Why a row was not linked: stable codes, with their Chinese label. */
export const attendanceReasonLabels = {
  already_linked: '已是本期参训人员',
  not_registered: '本县移民名册中没有此身份证号',
  name_missing: '姓名为空',
  national_id_missing: '身份证号为空',
  national_id_invalid: '身份证号无效',
  name_mismatch: '姓名与移民名册登记的不一致',
  duplicate_in_file: '身份证号与名单中前面的行重复',
} as const;
export type AttendanceReason = keyof typeof attendanceReasonLabels;
export const attendanceReasons = Object.keys(attendanceReasonLabels) as AttendanceReason[];

export interface AttendanceRowResult {
  row: number;
  name: string | null;
  nationalIdMasked: string | null;
  outcome: AttendanceOutcome;
  reason: AttendanceReason | null;
  nationalIdError: NationalIdError | null;
  personId: string | null;
}

export interface AttendanceResult {
  session: TrainingSessionRow;
  format: ImportFormat;
  counts: Record<'rows' | AttendanceOutcome, number>;
  rows: AttendanceRowResult[];
}

function cellText(cell: ImportCell): string {
  if (cell === null || cell === undefined) return '';
  if (cell instanceof Date) return Number.isNaN(cell.getTime()) ? '' : cell.toISOString().slice(0, 10);
  return String(cell).trim();
}

/** A name as compared with the registry: NFKC, no whitespace, one kind of middle dot (少数民族姓名). */
export const normaliseName = (name: string) =>
  name
    .normalize('NFKC')
    .replace(/\s+/g, '')
    .replace(/[•・．.‧∙]/g, '·');

const unprocessable = (message: string, code: string) =>
  new ApiError('unprocessable', message, [{ field: 'body', message, code }]);

/**
 * The layout of the header row: 姓名 and 身份证号 required, 村 and 备注 optional, other columns ignored
 * (a provider's list may carry more); a repeated known header refuses the file. The row may be data:
 * its cells are never quoted.
 */
function layoutOf(cells: readonly ImportCell[]): Record<AttendanceColumnKey, number> {
  const layout: Record<AttendanceColumnKey, number> = { name: -1, national_id: -1, village: -1, note: -1 };
  const byHeader = new Map(attendanceColumns.map((c) => [c.header, c.key]));
  const duplicate: string[] = [];
  cells.forEach((cell, index) => {
    const key = byHeader.get(cellText(cell).replace(/^\uFEFF/, ''));
    if (key === undefined) return;
    if (layout[key] !== -1) duplicate.push(attendanceColumns.find((c) => c.key === key)?.header ?? key);
    else layout[key] = index;
  });
  const missing = attendanceColumns.filter((c) => c.required && layout[c.key] === -1).map((c) => c.header);
  if (missing.length > 0 || duplicate.length > 0) {
    const parts = [
      ...(missing.length > 0 ? [`缺少必填列: ${missing.join('、')}`] : []),
      ...(duplicate.length > 0 ? [`重复的列: ${duplicate.join('、')}`] : []),
    ];
    throw unprocessable(`表头不符合参训人员名单模板（${parts.join('；')}）。`, 'invalid_header');
  }
  return layout;
}

/** The data rows of the file with its layout; 400 for a file that cannot be read, 422 for its shape. */
async function readList(file: Buffer, format: ImportFormat, charset: CsvCharset | undefined) {
  let layout: Record<AttendanceColumnKey, number> | undefined;
  const rows: FileRow[] = [];
  try {
    for await (const row of readFileRows(
      (async function* () {
        yield file;
      })(),
      format,
      charset,
    )) {
      if (isBlankImportRow(row.cells)) continue;
      if (!layout) {
        layout = layoutOf(row.cells);
        continue;
      }
      rows.push(row);
      if (rows.length > ATTENDANCE_MAX_ROWS) {
        throw unprocessable(`名单最多 ${ATTENDANCE_MAX_ROWS} 行。`, 'too_many_rows');
      }
    }
  } catch (error) {
    if (error instanceof UnreadableFileError) {
      throw new ApiError('validation_failed', error.message, [
        { field: 'body', message: error.message, code: error.code },
      ]);
    }
    throw error;
  }
  if (!layout) throw unprocessable('文件中没有表头行（也没有数据）。', 'empty_file');
  if (rows.length === 0) throw unprocessable('名单中没有参训人员（只有表头）。', 'no_rows');
  return { layout, rows };
}

const outcomeOf = (reason: AttendanceReason | null): AttendanceOutcome =>
  reason === null
    ? 'linked'
    : reason === 'already_linked' || reason === 'not_registered'
      ? reason
      : 'invalid';

/**
 * Reads the list, matches every row against the county's registry and links the persons found to the
 * session (those linked already are reported, not duplicated). All or nothing: when the persons linked
 * would outnumber the session's headcount, 422 `headcount_exceeded` and nothing is linked. One audit
 * record with the counts.
 */
export async function importAttendance(
  ctx: ServiceContext,
  sessionId: string,
  file: { bytes: Buffer; format: ImportFormat; charset: CsvCharset | undefined; sha256: string },
): Promise<AttendanceResult> {
  if (divisionLevel(ctx.actor.division) !== 'county') {
    throw new ApiError('forbidden', 'Attendance lists are imported by the county bureau.');
  }
  const found = await getTrainingSession(ctx.tx, sessionId);
  if (!found || found.divisionCode !== ctx.actor.division) {
    throw new ApiError('not_found', `Training session ${sessionId} was not found.`);
  }
  const { layout, rows } = await readList(file.bytes, file.format, file.charset);
  const on = today(ctx.now);

  // Rows in file order: the values, the ID's hash, a first verdict.
  const parsed = rows.map(({ rowNo, cells }) => {
    const name = cellText(cells[layout.name]);
    const rawId = cellText(cells[layout.national_id]);
    const id = rawId === '' ? undefined : parseNationalId(rawId, on);
    return {
      row: rowNo,
      name: name === '' ? null : scrubSensitive(name),
      rawName: name,
      nationalIdMasked: rawId === '' ? null : maskNationalId(id?.ok ? id.value : rawId),
      value: id?.ok ? id.value : undefined,
      nationalIdError: id && !id.ok ? id.error : null,
      reason: (name === ''
        ? 'name_missing'
        : rawId === ''
          ? 'national_id_missing'
          : id?.ok
            ? null
            : 'national_id_invalid') as AttendanceReason | null,
    };
  });
  const hashes = new Map<string, Buffer>();
  for (const r of parsed) {
    if (r.reason !== null || r.value === undefined) continue;
    if (hashes.has(r.value)) r.reason = 'duplicate_in_file';
    else hashes.set(r.value, ctx.sealer.lookupHash(r.value));
  }

  // One import of a session at a time; the links as they are now.
  await lockTrainingSessionAttendance(ctx.tx, found);
  const session = (await getTrainingSession(ctx.tx, sessionId)) as TrainingSessionRow;
  const linked = new Set(session.personIds);
  const persons = await countyPersonsByIdHash(ctx.tx, session.divisionCode, [...hashes.values()]);

  const toLink: string[] = [];
  const results: AttendanceRowResult[] = parsed.map((r) => {
    let personId: string | null = null;
    let reason = r.reason;
    if (reason === null && r.value !== undefined) {
      const person = persons.get((hashes.get(r.value) as Buffer).toString('hex'));
      if (!person) reason = 'not_registered';
      else if (normaliseName(person.name) !== normaliseName(r.rawName)) reason = 'name_mismatch';
      else {
        personId = person.id;
        if (linked.has(person.id)) reason = 'already_linked';
        else toLink.push(person.id);
      }
    }
    return {
      row: r.row,
      name: r.name,
      nationalIdMasked: r.nationalIdMasked,
      outcome: outcomeOf(reason),
      reason,
      nationalIdError: r.nationalIdError,
      personId,
    };
  });

  if (linked.size + toLink.length > session.trainees) {
    throw new ApiError(
      'unprocessable',
      `本期参训人数为 ${session.trainees} 人，已关联 ${linked.size} 人，名单中另有 ${toLink.length} 人可关联：关联的移民人数不能超过参训人数（请先更正参训人数或名单）。`,
      [{ field: 'body', message: 'More persons than the headcount', code: 'headcount_exceeded' }],
    );
  }
  const added = await linkTrainingSessionPersons(ctx.tx, session, toLink);
  if (added !== toLink.length) throw new Error('attendance links changed under the lock');

  const counts = { rows: results.length, linked: 0, already_linked: 0, not_registered: 0, invalid: 0 };
  for (const r of results) counts[r.outcome] += 1;
  await appendAudit(ctx.tx, {
    division: session.divisionCode,
    occurredAt: ctx.now,
    actor: ctx.actor,
    action: 'training_session.attendance_import',
    entityType: 'training_session',
    entityId: session.id,
    changes: {
      format: { old: null, new: file.format },
      size_bytes: { old: null, new: file.bytes.length },
      file_sha256: { old: null, new: file.sha256 },
      rows: { old: null, new: counts.rows },
      linked: { old: null, new: counts.linked },
      already_linked: { old: null, new: counts.already_linked },
      not_registered: { old: null, new: counts.not_registered },
      invalid: { old: null, new: counts.invalid },
      persons_linked: { old: linked.size, new: linked.size + added },
    },
    requestId: ctx.requestId,
  });
  const after = (await getTrainingSession(ctx.tx, sessionId)) as TrainingSessionRow;
  return { session: after, format: file.format, counts, rows: results };
}
