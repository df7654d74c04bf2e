/**
 * Bank files of a direct subsidy payment batch (docs/bank-files.md): the file we send the bank
 * (代发文件, CSV or fixed-width GB18030 records) and the result file it sends back (回盘文件, CSV).
 *
 * The export streams: it reads the lines as they come and counts and sums them on the way; a file
 * whose control totals do not match the batch's header never gets its trailer. The full bank account
 * appears in the file's bytes only — never in an error message.
 *
 * The return parser reads the whole file (it is applied whole or not at all) and refuses it, with
 * every problem found (up to 100), when anything is malformed. It tokenises the CSV itself: with
 * csv-parse, 100,000 rows took about 0.9 s; this is several times faster.
 */
import { TextDecoder } from 'node:util';
import { formatYuan, yuanToFen } from '@houfu/domain';
import iconv from 'iconv-lite';
import { csvField } from '../../lib/files.js';

// ---------------------------------------------------------------------------------------------------
// Export

export type BankFileFormat = 'csv' | 'fixed';

export interface BankFileHeader {
  /** e.g. '420581-2013-H1-01' (≤ 24 printable ASCII characters). */
  batchNo: string;
  countyCode: number;
  countyName: string;
  /** e.g. '2013-H1' (≤ 8 printable ASCII characters). */
  period: string;
  lineCount: number;
  totalFen: number;
  /** The batch's content hash: 64 hex characters. */
  contentHash: string;
  /** ISO date of the export, YYYY-MM-DD. */
  createdOn: string;
}

export interface BankFileLine {
  /** Our line reference, ≤ 30 printable ASCII characters, e.g. '420581-2013-H1-01-0000001'. */
  reference: string;
  /** The account holder (the person's name). */
  name: string;
  /** The full bank account, digits only, ≤ 32. */
  account: string;
  bankName: string | null;
  /** > 0. */
  amountFen: number;
}

/** The export cannot produce a valid file: a bad header or line, or control totals that do not hold. */
export class BankFileError extends Error {
  override readonly name = 'BankFileError';
}

export const bankFileMediaTypes: Record<BankFileFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  fixed: 'text/plain; charset=gb18030',
};

/** `bank-<batch no>.csv` / `.txt`; characters outside `[A-Za-z0-9._-]` become `_`. */
export function bankFileName(format: BankFileFormat, header: Pick<BankFileHeader, 'batchNo'>): string {
  const stem = header.batchNo.replace(/[^A-Za-z0-9._-]/g, '_');
  return `bank-${stem}.${format === 'csv' ? 'csv' : 'txt'}`;
}

/**
 * The fixed-width layout: field widths in bytes of GB18030, after a one-byte record type. Text is
 * left-aligned and space-padded, numbers right-aligned and zero-padded. Every record ends in CRLF
 * (not counted here).
 */
export const fixedWidthLayout = {
  H: [
    ['batchNo', 24],
    ['period', 8],
    ['countyCode', 6],
    ['lineCount', 10],
    ['totalFen', 18],
    ['contentHash', 64],
    ['createdOn', 8],
  ],
  D: [
    ['reference', 30],
    ['account', 32],
    ['name', 60],
    ['amountFen', 15],
    ['bankName', 60],
  ],
  T: [
    ['lineCount', 10],
    ['totalFen', 18],
    ['contentHash', 64],
  ],
} as const satisfies Record<'H' | 'D' | 'T', readonly (readonly [string, number])[]>;

type RecordType = keyof typeof fixedWidthLayout;
type FieldOf<R extends RecordType> = (typeof fixedWidthLayout)[R][number][0];

/** Length in bytes of a record of each type, the type byte included, CRLF excluded. */
export const fixedRecordBytes: Record<RecordType, number> = {
  H: 1 + fixedWidthLayout.H.reduce((n, [, w]) => n + w, 0),
  D: 1 + fixedWidthLayout.D.reduce((n, [, w]) => n + w, 0),
  T: 1 + fixedWidthLayout.T.reduce((n, [, w]) => n + w, 0),
};

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
// Control characters (C0, DEL, C1), line/paragraph separators, and unpaired surrogates (the u flag
// makes a surrogate pair one code point, so only lone halves match).
const BAD_TEXT = /[\p{Cc}\u2028\u2029\ud800-\udfff]/u;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Checks the header; returns the hash in lower case and the date as YYYYMMDD. */
function checkHeader(format: BankFileFormat, h: BankFileHeader): { hash: string; date: string } {
  const bad = (what: string) => {
    throw new BankFileError(`bank file header: ${what}`);
  };
  if (typeof h.batchNo !== 'string' || !PRINTABLE_ASCII.test(h.batchNo) || h.batchNo.length > 24)
    bad('batchNo must be 1 to 24 printable ASCII characters');
  if (typeof h.period !== 'string' || !PRINTABLE_ASCII.test(h.period) || h.period.length > 8)
    bad('period must be 1 to 8 printable ASCII characters');
  if (!Number.isInteger(h.countyCode) || h.countyCode < 100000 || h.countyCode > 999999)
    bad('countyCode must be a 6-digit code');
  if (!Number.isSafeInteger(h.lineCount) || h.lineCount < 0) bad('lineCount must be an integer ≥ 0');
  if (!Number.isSafeInteger(h.totalFen) || h.totalFen < 0) bad('totalFen must be an integer ≥ 0');
  if (format === 'fixed' && String(h.lineCount).length > 10)
    bad('lineCount is too large for the fixed-width file');
  if (typeof h.contentHash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(h.contentHash))
    bad('contentHash must be 64 hex characters');
  const d = ISO_DATE.test(h.createdOn) ? new Date(`${h.createdOn}T00:00:00Z`) : undefined;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== h.createdOn)
    bad('createdOn must be an ISO date (YYYY-MM-DD)');
  return { hash: h.contentHash.toLowerCase(), date: h.createdOn.replaceAll('-', '') };
}

/** Yuan with 2 decimals and no thousands separators (a bank's importer reads a plain number). */
const yuan = (fen: number) => formatYuan(fen).replaceAll(',', '');

/** What is wrong with a line for both formats, if anything. */
function lineProblem(line: BankFileLine): string | undefined {
  if (
    typeof line.reference !== 'string' ||
    !PRINTABLE_ASCII.test(line.reference) ||
    line.reference.length > 30
  )
    return 'reference must be 1 to 30 printable ASCII characters';
  if (typeof line.account !== 'string' || !/^\d{1,32}$/.test(line.account))
    return 'account must be 1 to 32 digits';
  if (typeof line.name !== 'string' || line.name.trim() === '') return 'name is empty';
  if (BAD_TEXT.test(line.name)) return 'name holds a control character or an invalid character';
  if (line.bankName !== null && (typeof line.bankName !== 'string' || BAD_TEXT.test(line.bankName)))
    return 'bankName holds a control character or an invalid character';
  if (!Number.isSafeInteger(line.amountFen) || line.amountFen <= 0) return 'amountFen must be an integer > 0';
  return undefined;
}

/** Throws when a line is unfit for either format; `n` is its 1-based position in the file. */
function checkLine(line: BankFileLine, n: number): void {
  const problem = lineProblem(line);
  // The reference is ours and safe to name; the account is never put in a message.
  if (problem) throw new BankFileError(`bank file ${lineLabel(line, n)}: ${problem}`);
}

const lineLabel = (line: BankFileLine, n: number) =>
  `line ${n}${
    typeof line.reference === 'string' && PRINTABLE_ASCII.test(line.reference)
      ? ` (${line.reference.slice(0, 30)})`
      : ''
  }`;

/** Chunks handed out of the generator are about this large (but the last). */
const CHUNK_BYTES = 64 * 1024;
const CRLF = '\r\n';

/**
 * Streams the file: header, one record per line, trailer, from the lines in pages (as read from the
 * database). Counts and sums the lines as they pass and throws (before emitting the trailer) when they
 * differ from header.lineCount / header.totalFen — a file whose control totals do not hold is never
 * completed. Throws {@link BankFileError}; an error of `pages` itself passes through as it is. Records
 * are gathered into chunks of about 64 KiB.
 */
export async function* bankFile(
  format: BankFileFormat,
  header: BankFileHeader,
  pages: AsyncIterable<readonly BankFileLine[]>,
): AsyncGenerator<Buffer> {
  if (format !== 'csv' && format !== 'fixed') throw new BankFileError(`unknown bank file format: ${format}`);
  const { hash, date } = checkHeader(format, header);
  const out = format === 'csv' ? csvWriter(header, hash) : fixedWriter(header, hash, date);
  out.header();
  let count = 0;
  let sum = 0;
  for await (const page of pages) {
    for (const line of page) {
      count += 1;
      checkLine(line, count);
      if (count > header.lineCount)
        throw new BankFileError(`bank file: more lines than the header's ${header.lineCount}`);
      sum += line.amountFen;
      if (!Number.isSafeInteger(sum) || sum > header.totalFen)
        throw new BankFileError(
          `bank file: the lines add up to more than the header's total of ${header.totalFen} fen`,
        );
      out.line(line, count);
      if (out.pending() >= CHUNK_BYTES) yield out.take();
    }
  }
  if (count !== header.lineCount || sum !== header.totalFen)
    throw new BankFileError(
      `bank file: ${count} lines totalling ${sum} fen, but the header says ${header.lineCount} lines totalling ${header.totalFen} fen`,
    );
  out.trailer();
  yield out.take();
}

/** Writes the records of one format into a pending chunk. */
interface Writer {
  header(): void;
  line(line: BankFileLine, n: number): void;
  trailer(): void;
  /** The size of the pending chunk (CSV: in characters). */
  pending(): number;
  /** Hands the pending chunk over and starts a new one. */
  take(): Buffer;
}

const csvRow = (cells: (string | number | null)[]) => `${cells.map(csvField).join(',')}${CRLF}`;

function csvWriter(h: BankFileHeader, hash: string): Writer {
  let text = '';
  return {
    header() {
      text += `\ufeff${csvRow(['批次号', h.batchNo, '期间', h.period, '笔数', h.lineCount, '金额合计(元)', yuan(h.totalFen), '批次校验码', hash])}`;
      text += csvRow(['参考号', '姓名', '银行账号', '开户银行', '金额(元)']);
    },
    line(l) {
      text += csvRow([l.reference, l.name, l.account, l.bankName, yuan(l.amountFen)]);
    },
    trailer() {
      text += csvRow(['合计', null, null, h.lineCount, yuan(h.totalFen)]);
    },
    pending: () => text.length,
    take() {
      const chunk = Buffer.from(text, 'utf8');
      text = '';
      return chunk;
    },
  };
}

/** A field's value: ASCII text, a number, or text already encoded in GB18030 (null: all spaces). */
type FieldValue = { text: string } | { number: number } | { bytes: Buffer | null };

const tooWide = (at: string, field: string, n: number, w: number) =>
  new BankFileError(`bank file ${at}: ${field} is ${n} bytes, wider than its ${w}`);

/**
 * Writes one fixed-width record and its CRLF into `buf` at `offset`: text left-aligned on a
 * space-filled record, numbers right-aligned and zero-padded. A value wider than its field throws
 * (never cut). Returns the offset after the record.
 */
function writeFixedRecord<R extends RecordType>(
  buf: Buffer,
  offset: number,
  type: R,
  values: Record<FieldOf<R>, FieldValue>,
  at: string,
): number {
  const size = fixedRecordBytes[type];
  buf.fill(0x20, offset, offset + size);
  buf.write(type, offset, 'latin1');
  let o = offset + 1;
  for (const [field, w] of fixedWidthLayout[type] as readonly (readonly [FieldOf<R>, number])[]) {
    const v = values[field];
    if ('number' in v) {
      const s = String(v.number);
      if (s.length > w) throw new BankFileError(`bank file ${at}: ${field} ${s} does not fit in ${w} digits`);
      buf.write(s.padStart(w, '0'), o, 'latin1');
    } else if ('text' in v) {
      if (v.text.length > w) throw tooWide(at, field, v.text.length, w);
      buf.write(v.text, o, 'latin1');
    } else if (v.bytes) {
      if (v.bytes.length > w) throw tooWide(at, field, v.bytes.length, w);
      v.bytes.copy(buf, o);
    }
    o += w;
  }
  buf.write(CRLF, offset + size, 'latin1');
  return offset + size + 2;
}

function fixedWriter(h: BankFileHeader, hash: string, date: string): Writer {
  // Room for a whole chunk and one more record of any type.
  const capacity = CHUNK_BYTES + Math.max(...Object.values(fixedRecordBytes)) + 2;
  let buf = Buffer.allocUnsafe(capacity);
  let len = 0;
  // A county's lines name a few dozen banks: each is checked and encoded once.
  const banks = new Map<string, Buffer>();
  const bank = (name: string, at: string) => {
    let bytes = banks.get(name);
    if (!bytes) {
      bytes = gb18030(name, `${at}: bankName`);
      if (banks.size < 1000) banks.set(name, bytes);
    }
    return bytes;
  };
  return {
    header() {
      len = writeFixedRecord(
        buf,
        len,
        'H',
        {
          batchNo: { text: h.batchNo },
          period: { text: h.period },
          countyCode: { number: h.countyCode },
          lineCount: { number: h.lineCount },
          totalFen: { number: h.totalFen },
          contentHash: { text: hash },
          createdOn: { text: date },
        },
        'header',
      );
    },
    line(l, n) {
      const at = `line ${n} (${l.reference})`;
      len = writeFixedRecord(
        buf,
        len,
        'D',
        {
          reference: { text: l.reference },
          account: { text: l.account },
          name: { bytes: gb18030(l.name, `${at}: name`) },
          amountFen: { number: l.amountFen },
          bankName: { bytes: l.bankName === null ? null : bank(l.bankName, at) },
        },
        at,
      );
    },
    trailer() {
      len = writeFixedRecord(
        buf,
        len,
        'T',
        { lineCount: { number: h.lineCount }, totalFen: { number: h.totalFen }, contentHash: { text: hash } },
        'trailer',
      );
    },
    pending: () => len,
    take() {
      // Only written bytes are handed over: every record is space-filled before its fields.
      const chunk = buf.subarray(0, len);
      buf = Buffer.allocUnsafe(capacity);
      len = 0;
      return chunk;
    },
  };
}

/**
 * A text field in GB18030 (its width is checked by {@link writeFixedRecord}); leading or trailing spaces
 * are refused: they could not be told from the padding.
 */
function gb18030(value: string, what: string): Buffer {
  if (/^\s|\s$/.test(value))
    throw new BankFileError(`bank file ${what} has leading or trailing spaces (not allowed in fixed width)`);
  return iconv.encode(value, 'gb18030');
}

// ---------------------------------------------------------------------------------------------------
// Return file

export type ReturnResult = 'paid' | 'failed';

/** One row of a return file; `rowNo` is the CSV record number (1 = the first line, as a spreadsheet). */
export interface ReturnRow {
  rowNo: number;
  reference: string;
  amountFen: number;
  result: ReturnResult;
  reason: string | null;
}

export interface ReturnProblem {
  rowNo: number;
  /** `reference`, `amount`, `result`, `reason` (or the column's canonical name for a header problem). */
  field: string;
  message: string;
}

export type ReturnFileErrorCode = 'file_encoding' | 'file_unreadable' | 'header' | 'rows';

/** The return file is refused whole. */
export class ReturnFileError extends Error {
  override readonly name = 'ReturnFileError';
  constructor(
    readonly code: ReturnFileErrorCode,
    message: string,
    readonly problems: ReturnProblem[] = [],
  ) {
    super(message);
  }
}

/** Rows of data a return file may hold. */
export const MAX_RETURN_ROWS = 1_000_000;
/** Problems listed, at most. */
export const MAX_RETURN_PROBLEMS = 100;
const MAX_REFERENCE = 30;
const MAX_REASON = 500;

type ReturnField = 'reference' | 'amount' | 'result' | 'reason';

/** Accepted headers of each column, normalised (see {@link normaliseHeader}). */
const COLUMN_NAMES: Record<ReturnField, readonly string[]> = {
  reference: ['参考号', 'reference'],
  amount: ['金额', '金额(元)', 'amount'],
  result: ['结果', '处理结果', 'result'],
  reason: ['失败原因', '原因', 'reason'],
};
const REQUIRED: readonly ReturnField[] = ['reference', 'amount', 'result'];

const RESULTS = new Map<string, ReturnResult>([
  ['成功', 'paid'],
  ['success', 'paid'],
  ['paid', 'paid'],
  ['失败', 'failed'],
  ['fail', 'failed'],
  ['failed', 'failed'],
]);

/** Trimmed, lower case, full-width parentheses as ASCII, no inner spaces: '金额（元）' → '金额(元)'. */
const normaliseHeader = (s: string) =>
  s
    .replace(/^\ufeff/, '')
    .trim()
    .toLowerCase()
    .replaceAll('（', '(')
    .replaceAll('）', ')')
    .replace(/\s+/g, '');

const FIELD_OF_HEADER = new Map<string, ReturnField>(
  (Object.entries(COLUMN_NAMES) as [ReturnField, readonly string[]][]).flatMap(([field, names]) =>
    names.map((n) => [n, field] as const),
  ),
);

const isBlank = (cells: string[]) => {
  for (const c of cells) if (c.trim() !== '') return false;
  return true;
};
const isTrailer = (cells: string[]) => {
  const first = (cells[0] ?? '').trim().toLowerCase();
  return first === '合计' || first === 'total';
};

/**
 * Calls `onRecord` with each record of RFC 4180 CSV text and its number (1 = the first line; a
 * blank line is a record of one empty cell). Line ends may be CRLF, LF or CR; a quoted field may hold
 * any of them. A quote inside an unquoted field is kept as it is (as Excel reads it); a quote never
 * closed, or text after a closing quote, makes the file unreadable.
 */
function forEachCsvRecord(text: string, onRecord: (cells: string[], recordNo: number) => void): void {
  const n = text.length;
  let i = 0;
  let recordNo = 0;
  const unreadable = (what: string) =>
    new ReturnFileError('file_unreadable', `the CSV cannot be read: ${what} (record ${recordNo})`);
  while (i < n) {
    recordNo += 1;
    const cells: string[] = [];
    for (;;) {
      if (text.charCodeAt(i) === 0x22) {
        let value = '';
        let start = i + 1;
        for (;;) {
          const q = text.indexOf('"', start);
          if (q === -1) throw unreadable('a quoted field is never closed');
          if (text.charCodeAt(q + 1) === 0x22) {
            value += text.slice(start, q + 1);
            start = q + 2;
            continue;
          }
          value += text.slice(start, q);
          i = q + 1;
          break;
        }
        cells.push(value);
        const c = text.charCodeAt(i);
        if (c === 0x2c) {
          i += 1;
          continue;
        }
        if (i < n && c !== 0x0d && c !== 0x0a) throw unreadable('text after the closing quote of a field');
        break;
      }
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === 0x2c || c === 0x0d || c === 0x0a) break;
        j += 1;
      }
      cells.push(text.slice(i, j));
      i = j;
      if (text.charCodeAt(i) === 0x2c) {
        i += 1;
        continue;
      }
      break;
    }
    if (text.charCodeAt(i) === 0x0d) i += 1;
    if (text.charCodeAt(i) === 0x0a) i += 1;
    onRecord(cells, recordNo);
  }
}

/** UTF-8 (with or without BOM) when the bytes are valid UTF-8, else GB18030. */
function decodeReturn(file: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file);
  } catch {
    try {
      text = new TextDecoder('gb18030', { fatal: true }).decode(file);
    } catch {
      throw new ReturnFileError(
        'file_encoding',
        'the file is neither UTF-8 nor GB18030 text (save the CSV as UTF-8 or as Excel’s default GBK CSV)',
      );
    }
  }
  if (text.includes('\u0000'))
    throw new ReturnFileError(
      'file_encoding',
      'the file holds NUL characters (UTF-16?); save the CSV as UTF-8',
    );
  return text.replace(/^\ufeff/, '');
}

/**
 * Parses a bank return CSV. Throws ReturnFileError (code 'file_encoding' | 'file_unreadable' |
 * 'header' | 'rows', with problems[] for rows, at most 100) when anything is malformed: a return file
 * is applied whole or not at all.
 *
 * The header is the first non-blank row; columns are found by name in any order (others are ignored).
 * Blank rows and a row whose first cell is 合计/TOTAL are skipped. Duplicate references are kept.
 */
export function parseBankReturn(file: Buffer): ReturnRow[] {
  const text = decodeReturn(file);
  const rows: ReturnRow[] = [];
  const problems: ReturnProblem[] = [];
  let problemCount = 0;
  let badRows = 0;
  let columns: Columns | undefined;

  const onRecord = (cells: string[], rowNo: number): void => {
    if (isBlank(cells)) return;
    if (!columns) {
      columns = readHeader(cells, rowNo);
      return;
    }
    if (isTrailer(cells)) return;
    if (rows.length + badRows >= MAX_RETURN_ROWS)
      throw new ReturnFileError(
        'rows',
        `the file has more than ${MAX_RETURN_ROWS.toLocaleString('en')} rows`,
      );
    const row = readRow(cells, rowNo, columns);
    if ('problems' in row) {
      badRows += 1;
      problemCount += row.problems.length;
      for (const p of row.problems) if (problems.length < MAX_RETURN_PROBLEMS) problems.push(p);
    } else rows.push(row);
  };

  forEachCsvRecord(text, onRecord);

  if (!columns) throw new ReturnFileError('header', 'the file is empty: no header row');
  if (problemCount > 0)
    throw new ReturnFileError(
      'rows',
      `${badRows} row${badRows === 1 ? '' : 's'} cannot be read (${problemCount} problem${problemCount === 1 ? '' : 's'}${
        problemCount > problems.length ? `, the first ${problems.length} listed` : ''
      })`,
      problems,
    );
  if (rows.length === 0) throw new ReturnFileError('rows', 'the file has a header but no rows');
  return rows;
}

type Columns = Partial<Record<ReturnField, { index: number; header: string }>>;

const cellOf = (cells: string[], columns: Columns, field: ReturnField) => {
  const c = columns[field];
  return c ? (cells[c.index] ?? '').trim() : '';
};

const headerOf = (columns: Columns, field: ReturnField) => columns[field]?.header ?? field;

/** One data row, or its problems (no closures per row: this runs a million times). */
function readRow(
  cells: string[],
  rowNo: number,
  columns: Columns,
): ReturnRow | { problems: ReturnProblem[] } {
  const problems: ReturnProblem[] = [];

  const reference = cellOf(cells, columns, 'reference');
  if (reference === '')
    problems.push({ rowNo, field: 'reference', message: `empty (column ${headerOf(columns, 'reference')})` });
  else if (reference.length > MAX_REFERENCE)
    problems.push({
      rowNo,
      field: 'reference',
      message: `longer than ${MAX_REFERENCE} characters: not one of our references`,
    });

  const amountText = cellOf(cells, columns, 'amount');
  let amountFen = 0;
  if (amountText === '')
    problems.push({ rowNo, field: 'amount', message: `empty (column ${headerOf(columns, 'amount')})` });
  else {
    try {
      amountFen = yuanToFen(amountText);
    } catch {
      amountFen = Number.NaN;
    }
    if (Number.isNaN(amountFen))
      problems.push({
        rowNo,
        field: 'amount',
        message: `${JSON.stringify(amountText.slice(0, 40))} is not an amount in yuan with at most 2 decimals`,
      });
    else if (amountFen <= 0)
      problems.push({ rowNo, field: 'amount', message: `${JSON.stringify(amountText)} is not more than 0` });
  }

  const resultText = cellOf(cells, columns, 'result');
  const result = RESULTS.get(resultText.toLowerCase());
  if (!result)
    problems.push({
      rowNo,
      field: 'result',
      message:
        resultText === ''
          ? `empty (column ${headerOf(columns, 'result')})`
          : `${JSON.stringify(resultText.slice(0, 40))} is not a result: 成功/success/paid or 失败/fail/failed`,
    });

  const reason = cellOf(cells, columns, 'reason');
  if (reason.length > MAX_REASON)
    problems.push({ rowNo, field: 'reason', message: `longer than ${MAX_REASON} characters` });

  if (problems.length > 0 || !result) return { problems };
  return { rowNo, reference, amountFen, result, reason: reason === '' ? null : reason };
}

/** Finds the columns in the header row; throws a 'header' error naming every missing or doubled one. */
function readHeader(cells: string[], rowNo: number): Columns {
  const columns: Columns = {};
  const problems: ReturnProblem[] = [];
  cells.forEach((raw, index) => {
    const field = FIELD_OF_HEADER.get(normaliseHeader(raw));
    if (!field) return;
    const seen = columns[field];
    if (seen)
      problems.push({
        rowNo,
        field,
        message: `two columns for ${field}: ${seen.header} and ${raw.trim()}`,
      });
    else columns[field] = { index, header: raw.trim() };
  });
  for (const field of REQUIRED)
    if (!columns[field])
      problems.push({
        rowNo,
        field,
        message: `missing column (${COLUMN_NAMES[field].join(' or ')})`,
      });
  if (problems.length > 0)
    throw new ReturnFileError(
      'header',
      `the header row (row ${rowNo}) does not name the columns needed: ${problems.map((p) => p.message).join('; ')}`,
      problems,
    );
  return columns;
}
