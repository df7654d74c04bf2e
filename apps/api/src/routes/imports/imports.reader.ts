/**
 * Reads an import file as a stream of rows: CSV (UTF-8 with or without BOM, or GB18030/GBK) through
 * csv-parse, XLSX through exceljs' streaming WorkbookReader (first worksheet). Memory stays bounded by
 * the chunk size and the parser's buffers, whatever the file's size (XLSX keeps its shared-strings
 * table in memory: a property of the format).
 */
import { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { type ImportCell, scrubSensitive } from '@houfu/domain';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import { ApiError } from '../../lib/problem.js';

export type ImportFormat = 'csv' | 'xlsx';
export type CsvCharset = 'utf-8' | 'gb18030';

export const CSV_TYPE = 'text/csv';
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** One record of the file; `rowNo` is the spreadsheet row number (1 = the first line). */
export interface FileRow {
  rowNo: number;
  cells: ImportCell[];
}

/** The file cannot be read (encoding, broken CSV quoting, not an XLSX): the whole import fails. */
export class UnreadableFileError extends Error {
  constructor(
    readonly code: 'file_encoding' | 'file_unreadable',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The file's chunks, with an error of the source itself (reading the chunks from the database: a
 * connection lost, a timeout) kept apart from the file's own problems: such an error is transient and
 * must reach the job runner as it is (the job is retried), never as an unreadable file. The source
 * ends early instead of erroring (exceljs does not pass a piped stream's error on, and would wait
 * forever); the readers check `failed` before every row and rethrow `error`.
 */
class Source {
  failed = false;
  error: unknown;
  constructor(private readonly chunks: AsyncIterable<Buffer>) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of this.chunks) yield chunk;
    } catch (error) {
      this.failed = true;
      this.error = error;
    }
  }

  /** Throws the source's error, if it failed. */
  check(): void {
    if (this.failed) throw this.error;
  }
}

/** A Node system error (a temporary file, a socket): the environment's, not the file's. */
const isSystemError = (error: unknown) => typeof (error as { syscall?: unknown })?.syscall === 'string';

/** The charset a `Content-Type` names, if it names one we read. */
export function charsetOf(contentType: string): CsvCharset | 'unsupported' | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  if (!m) return undefined;
  const name = (m[1] as string).toLowerCase();
  if (name === 'utf-8' || name === 'utf8') return 'utf-8';
  if (['gb18030', 'gbk', 'gb2312', 'cp936'].includes(name)) return 'gb18030';
  return 'unsupported';
}

/**
 * A file body's format and charset from its Content-Type (text/csv, UTF-8 or a declared GB18030/GBK, or
 * XLSX); 415 for anything else. `key` is the media type as it enters an idempotency fingerprint.
 */
export function mediaOf(contentType: string | undefined): {
  format: ImportFormat;
  charset: CsvCharset | undefined;
  mediaType: string;
  key: string;
} {
  const essence = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (essence === XLSX_TYPE)
    return { format: 'xlsx', charset: undefined, mediaType: XLSX_TYPE, key: XLSX_TYPE };
  if (essence === CSV_TYPE) {
    const charset = charsetOf(contentType ?? '');
    if (charset !== 'unsupported') {
      const mediaType = charset ? `${CSV_TYPE}; charset=${charset}` : CSV_TYPE;
      return { format: 'csv', charset, mediaType, key: mediaType };
    }
  }
  throw new ApiError(
    'unsupported_media_type',
    `Send the file as ${CSV_TYPE} (UTF-8, or charset=gb18030) or ${XLSX_TYPE}.`,
  );
}

/**
 * Decodes byte chunks to text. Without a declared charset the first chunk decides: valid UTF-8 (a
 * BOM or not) → UTF-8, otherwise GB18030 (what Excel on Chinese Windows writes as "CSV"). Invalid
 * bytes later in the file fail the import rather than import garbled names.
 */
async function* decode(
  chunks: AsyncIterable<Buffer>,
  declared: CsvCharset | undefined,
): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined;
  for await (const chunk of chunks) {
    if (!decoder) {
      let charset = declared;
      if (!charset) {
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(chunk, { stream: true });
          charset = 'utf-8';
        } catch {
          charset = 'gb18030';
        }
      }
      decoder = new TextDecoder(charset, { fatal: true });
    }
    try {
      yield decoder.decode(chunk, { stream: true });
    } catch {
      throw new UnreadableFileError(
        'file_encoding',
        `文件不是有效的${decoder.encoding === 'utf-8' ? 'UTF-8' : 'GB18030'}编码（请以 UTF-8 保存 CSV，或在 Content-Type 中注明 charset=gb18030）。`,
      );
    }
  }
  if (decoder) {
    try {
      const rest = decoder.decode();
      if (rest) yield rest;
    } catch {
      throw new UnreadableFileError('file_encoding', '文件末尾的字符编码不完整。');
    }
  }
}

async function* csvRows(source: Source, charset: CsvCharset | undefined): AsyncGenerator<FileRow> {
  const parser = parse({ relax_column_count: true, bom: true, trim: false });
  const input = Readable.from(decode(source, charset), { objectMode: false });
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);
  let rowNo = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      source.check();
      rowNo += 1;
      yield { rowNo, cells: record };
    }
    source.check();
  } catch (error) {
    source.check();
    if (error instanceof UnreadableFileError) throw error;
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('CSV_')) {
      throw new UnreadableFileError(
        'file_unreadable',
        `CSV 格式错误（第 ${rowNo + 1} 行附近: ${code}），请检查引号是否成对。`,
      );
    }
    throw error;
  } finally {
    input.destroy();
  }
}

type ExcelValue =
  | null
  | undefined
  | string
  | number
  | boolean
  | Date
  | { richText: { text: string }[] }
  | { formula?: string; sharedFormula?: string; result?: unknown }
  | { text: string; hyperlink: string }
  | { error: string };

function excelCell(v: ExcelValue): ImportCell {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || v instanceof Date) return v;
  if ('richText' in v) return v.richText.map((r) => r.text).join('');
  if ('result' in v || 'formula' in v || 'sharedFormula' in v) return excelCell(v.result as ExcelValue);
  if ('text' in v) return String(v.text);
  return null;
}

// exceljs is patched so that its reader never loses the parts after the worksheets when its temporary
// files are slow (exceljs#3064; infra/patches/exceljs@4.4.0.patch, docs/registry-imports.md).
async function* xlsxRows(source: Source): AsyncGenerator<FileRow> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from(source), {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  try {
    for await (const sheet of reader) {
      for await (const row of sheet as unknown as AsyncIterable<ExcelJS.Row>) {
        source.check();
        const values = row.values as ExcelValue[];
        // exceljs numbers cells from 1; index 0 is always empty.
        yield { rowNo: row.number, cells: values.slice(1).map((v) => excelCell(v)) };
      }
      source.check();
      return; // the first worksheet only
    }
    source.check();
  } catch (error) {
    // Only what exceljs and unzipper make of the file's bytes is the file's fault.
    source.check();
    if (error instanceof UnreadableFileError || isSystemError(error)) throw error;
    throw new UnreadableFileError(
      'file_unreadable',
      `无法读取 XLSX 文件（${scrubSensitive((error as Error).message).slice(0, 200)}）。`,
    );
  }
}

/**
 * The rows of an import file, in order, streamed from its chunks. A file that cannot be parsed throws
 * {@link UnreadableFileError}; an error of `chunks` itself is rethrown as it is.
 */
export function readFileRows(
  chunks: AsyncIterable<Buffer>,
  format: ImportFormat,
  charset?: CsvCharset,
): AsyncGenerator<FileRow> {
  const source = new Source(chunks);
  return format === 'csv' ? csvRows(source, charset) : xlsxRows(source);
}
