/**
 * /v1/imports: registry imports of CSV and XLSX files through the job runner — happy paths, the
 * per-row report for every kind of bad row, idempotency, limits, media types, tenancy, audit,
 * crash-resume, and bounded memory while staging a large file.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { rowsOf, schema, withDivision } from '@houfu/db';
import { usingPostgres } from '@houfu/db/testing';
import { importColumns, resolveImportHeader, validateImportRow } from '@houfu/domain';
import { and, count, eq, sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJobRunner, SimulatedCrash } from '../src/jobs/runner.js';
import { createLogger } from '../src/lib/logger.js';
import { registryImportHandler, STAGE_BATCH, stagedRow } from '../src/routes/imports/imports.job.js';
import { readFileRows, UnreadableFileError } from '../src/routes/imports/imports.reader.js';
import {
  createTestApp,
  json,
  makeNationalId,
  makePerson,
  makeTownship,
  problem,
  type TestApp,
} from './helpers.js';

const CSV = 'text/csv';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const COUNTY = 420581;
const OTHER = 420582;
const HEADERS = importColumns.map((c) => c.header);

interface ImportBody {
  id: string;
  county_code: number;
  status: string;
  format: string;
  filename: string | null;
  size_bytes: number;
  sha256: string;
  counts: { total: number | null; accepted: number | null; rejected: number | null };
  error: { code: string; message: string } | null;
  job: { id: string; status: string };
  created_by: string;
  links: { self: string; job: string; report: string | null };
}
interface JobBody {
  id: string;
  kind: string;
  status: string;
  phase: string | null;
  progress: { done: number; total: number | null; percent: number | null };
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  links: { self: string; resource: string | null };
}

let t: TestApp;
const tok: Record<string, string> = {};
let villages: number[];
let otherVillage: number;

beforeAll(async () => {
  t = await createTestApp();
  tok.op = await t.token(COUNTY, ['county_operator']);
  tok.other = await t.token(OTHER, ['county_operator']);
  tok.city = await t.token(420500, ['city_reviewer']);
  tok.auditor = await t.token(420500, ['auditor'], 'user:auditor:420500');
  tok.wuhan = await t.token(420100, ['city_reviewer']);
  villages = (await makeTownship(t.db, COUNTY, 3)).villages.map((v) => v.code);
  otherVillage = (await makeTownship(t.db, OTHER, 1)).villages[0]?.code as number;
});
afterAll(() => t.close());

type Cells = Partial<Record<(typeof importColumns)[number]['key'], string>>;
const line = (cells: Cells) => importColumns.map((c) => csvQuote(cells[c.key] ?? '')).join(',');
const csvQuote = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
const csvOf = (rows: Cells[]) => `${[HEADERS.join(','), ...rows.map(line)].join('\r\n')}\r\n`;

/** A valid ID number unlikely to repeat across runs on a shared database (random birth date and sequence). */
function freshId(birthDate?: string, sex?: 'male' | 'female'): string {
  const date =
    birthDate ??
    new Date(Date.UTC(1940, 0, 1) + Math.floor(Math.random() * 60 * 365) * 86_400_000)
      .toISOString()
      .slice(0, 10);
  const seq =
    Math.floor(Math.random() * 500) * 2 +
    (sex === 'female' ? 0 : sex === 'male' ? 1 : Math.round(Math.random()));
  return makeNationalId(COUNTY, date, seq);
}

const RUN = randomUUID().slice(0, 6);

function person(household: string, relationship: string, overrides: Cells = {}): Cells {
  const id = overrides.national_id ?? freshId();
  return {
    // Per run, so that a rerun on a shared database starts from new households ("=" keeps it as is).
    household_no: household.startsWith('=') ? household.slice(1) : `${RUN}-${household}`,
    relationship,
    name: '王五',
    national_id: id,
    reservoir: '三峡水库',
    relocation_date: '2003-05-01',
    relocatee_kind: '原迁移民',
    village_code: String(villages[0]),
    ...overrides,
  };
}

async function post(
  body: RequestInit['body'],
  opts: {
    token?: string;
    key?: string | null;
    type?: string;
    filename?: string;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${opts.token ?? tok.op}`,
    'content-type': opts.type ?? CSV,
    ...opts.headers,
  };
  if (opts.key !== null) headers['idempotency-key'] = opts.key ?? randomUUID();
  const query = opts.filename ? `?filename=${encodeURIComponent(opts.filename)}` : '';
  const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers, body };
  if (body instanceof ReadableStream) init.duplex = 'half';
  return t.app.request(`/v1/imports${query}`, init);
}

async function importFile(body: NonNullable<RequestInit['body']>, opts: Parameters<typeof post>[1] = {}) {
  const res = await post(body, opts);
  expect(res.status, await res.clone().text()).toBe(202);
  const created = await json<ImportBody>(res);
  await t.jobs.runUntilIdle();
  const got = await t.call('GET', `/v1/imports/${created.id}`, { token: opts.token ?? tok.op });
  expect(got.status).toBe(200);
  return json<ImportBody>(got);
}

async function reportOf(id: string, token = tok.op) {
  const res = await t.call('GET', `/v1/imports/${id}/report`, { token });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="import-.*-report\.csv"/);
  const bytes = Buffer.from(await res.arrayBuffer());
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const text = bytes.subarray(3).toString('utf8');
  expect(text.startsWith('行号,结果,错误,警告,姓名,身份证号,人员ID\r\n')).toBe(true);
  return text
    .trim()
    .split('\r\n')
    .slice(1)
    .map((l) => parseCsvLine(l));
}

function parseCsvLine(l: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < l.length; i += 1) {
    const ch = l[i] as string;
    if (quoted) {
      if (ch === '"' && l[i + 1] === '"') {
        cur += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

async function personsOfImport(importId: string, county = COUNTY) {
  return withDivision(t.db, county, (tx) =>
    tx.select().from(schema.persons).where(eq(schema.persons.importId, importId)),
  );
}

describe('happy paths', () => {
  it('a CSV file is uploaded (202), staged, checked and applied by the job; the report lists every row', async () => {
    const rows = [
      person('HP-1', '户主', { name: '张三', sex: '男', national_id: freshId('1960-02-03', 'male') }),
      person('HP-1', '配偶', { name: '李四', national_id: freshId('1962-07-08') }),
      person('HP-1', '儿子', { name: '张小三', national_id: freshId('1985-01-01') }),
      person('HP-2', '户主', {
        name: '赵六',
        village_code: String(villages[1]),
        bank_name: '农村信用社',
        bank_account: '6228480012345678901',
        relocation_date: '2005/6/7',
      }),
    ];
    const res = await post(csvOf(rows), { filename: '移民名单.csv' });
    expect(res.status).toBe(202);
    const created = await json<ImportBody>(res);
    expect(res.headers.get('location')).toBe(`/v1/imports/${created.id}`);
    expect(created).toMatchObject({
      county_code: COUNTY,
      status: 'queued',
      format: 'csv',
      filename: '移民名单.csv',
      counts: { total: null, accepted: null, rejected: null },
      job: { status: 'queued' },
      links: { self: `/v1/imports/${created.id}`, job: `/v1/jobs/${created.job.id}`, report: null },
    });
    expect(created.sha256).toMatch(/^[0-9a-f]{64}$/);

    const queued = await json<JobBody>(await t.call('GET', `/v1/jobs/${created.job.id}`, { token: tok.op }));
    expect(queued).toMatchObject({
      kind: 'registry.import',
      status: 'queued',
      links: { resource: created.links.self },
    });

    expect(await t.jobs.runUntilIdle()).toEqual({ ran: 1, crashed: false });
    const done = await json<ImportBody>(await t.call('GET', created.links.self, { token: tok.op }));
    expect(done).toMatchObject({
      status: 'completed',
      counts: { total: 4, accepted: 4, rejected: 0 },
      job: { status: 'succeeded' },
      links: { report: `/v1/imports/${created.id}/report` },
      error: null,
    });
    const job = await json<JobBody>(await t.call('GET', `/v1/jobs/${created.job.id}`, { token: tok.op }));
    expect(job).toMatchObject({
      status: 'succeeded',
      phase: 'completed',
      progress: { done: 4, total: 4, percent: 100 },
      result: {
        import_id: created.id,
        rows_total: 4,
        rows_accepted: 4,
        rows_rejected: 0,
        households_created: 2,
      },
      error: null,
    });

    const persons = await personsOfImport(created.id);
    expect(persons).toHaveLength(4);
    const zhao = persons.find((p) => p.name === '赵六');
    expect(zhao).toMatchObject({
      relocationDate: '2005-06-07',
      registeredOn: '2005-06-07',
      bankName: '农村信用社',
    });
    expect(t.sealer.open(zhao?.bankAccountSealed as Uint8Array)).toBe('6228480012345678901');
    expect(zhao?.bankAccountMasked).toBe('****8901');
    const zhang = persons.find((p) => p.name === '张三');
    expect(t.sealer.open(zhang?.idSealed as Uint8Array)).toBe(rows[0]?.national_id);
    expect(zhang).toMatchObject({
      sex: 'male',
      birthDate: '1960-02-03',
      relationship: 'head',
      relocateeKind: 'original',
    });

    const report = await reportOf(created.id);
    expect(report.map((r) => r.slice(0, 5))).toEqual([
      ['2', '导入', '', '', '张三'],
      ['3', '导入', '', '', '李四'],
      ['4', '导入', '', '', '张小三'],
      ['5', '导入', '', '', '赵六'],
    ]);
    for (const [i, r] of report.entries()) {
      const id = rows[i]?.national_id as string;
      expect(r[5]).toBe(`${id.slice(0, 6)}********${id.slice(14)}`);
      expect(persons.map((p) => p.id)).toContain(r[6]);
    }
  });
});

/** Codes of a report cell "说明[code]；说明[code]". */
const codes = (cell: string | undefined) => [...(cell ?? '').matchAll(/\[(\w+)\]/g)].map((m) => m[1]);

describe('the per-row report', () => {
  it('rejects every kind of bad row with its reason, imports the good ones, and warns', async () => {
    const registered = await makePerson(t, COUNTY, { village: villages[0] });
    const existingHousehold = await makePerson(t, COUNTY, { village: villages[2] });
    const [household] = await withDivision(t.db, COUNTY, (tx) =>
      tx.select().from(schema.households).where(eq(schema.households.id, existingHousehold.householdId)),
    );
    const elsewhere = await makePerson(t, OTHER, { village: otherVillage });
    const good = freshId('1980-01-01');
    const dup = freshId('1981-01-01');
    const valid = () => freshId('1982-02-02');
    const sexless = freshId();
    const badCheck = (id: string) => id.slice(0, 17) + (id.endsWith('1') ? '2' : '1');
    const rows: (Cells | 'blank')[] = [
      /* 2 */ person('B-1', '户主', { name: '好人', national_id: good }),
      /* 3 */ person('B-1', '子女', { name: '校验错', national_id: badCheck(valid()) }),
      /* 4 */ person('B-1', '子女', { name: '位数错', national_id: valid().slice(0, 17) }),
      /* 5 */ person('B-1', '子女', { name: '日期错', relocation_date: '2003-02-30' }),
      /* 6 */ person('B-1', '子女', { name: '未来', relocation_date: '2099-01-01' }),
      /* 7 */ person('B-7', '户主', { name: '无此村', village_code: '420581999999' }),
      /* 8 */ person('B-8', '户主', { name: '外县村', village_code: String(otherVillage) }),
      /* 9 */ person('B-2', '户主', { name: '首次', national_id: dup }),
      /* 10 */ person('B-2', '子女', { name: '重复', national_id: dup }),
      /* 11 */ person('B-9', '户主', { name: '已登记', national_id: registered.nationalId }),
      /* 12 */ person(`=${household?.householdNo}`, '子女', {
        name: '村不符',
        village_code: String(villages[0]),
      }),
      /* 13 */ person('B-1', '子女', { name: '' }),
      /* 14 */ person('B-1', '邻居', { name: '关系错' }),
      /* 15 */ person('B-1', '子女', { name: '类别错', relocatee_kind: '新迁' }),
      /* 16 */ person('B-1', '子女', {
        name: '性别错',
        national_id: sexless,
        sex: Number(sexless.charAt(16)) % 2 === 1 ? '女' : '男',
      }),
      /* 17 */ person('B-3', '户主', { name: '分村一', village_code: String(villages[0]) }),
      /* 18 */ person('B-3', '子女', { name: '分村二', village_code: String(villages[1]) }),
      /* 19 */ person('B-4', '户主', { name: '户主一' }),
      /* 20 */ person('B-4', '户主', { name: '户主二' }),
      /* 21 */ 'blank',
      /* 22 */ person('B-1', '子女', { name: '', national_id: badCheck(valid()) }),
      /* 23 */ person('B-5', '子女', { name: '无户主' }),
      /* 24 */ person('B-6', '户主', { name: '外县有', national_id: elsewhere.nationalId }),
    ];
    const text = `${[HEADERS.join(','), ...rows.map((r) => (r === 'blank' ? ',,,,,,,,,,,' : line(r)))].join('\n')}\n`;
    const done = await importFile(text);
    expect(done).toMatchObject({ status: 'completed', counts: { total: 22, accepted: 4, rejected: 18 } });

    const report = await reportOf(done.id);
    expect(report.map((r) => [Number(r[0]), r[1], codes(r[2]), codes(r[3]), r[4]])).toEqual([
      [2, '导入', [], [], '好人'],
      [3, '拒绝', ['id_checksum'], [], '校验错'],
      [4, '拒绝', ['id_length'], [], '位数错'],
      [5, '拒绝', ['relocation_date_invalid'], [], '日期错'],
      [6, '拒绝', ['relocation_date_future'], [], '未来'],
      [7, '拒绝', ['village_unknown'], [], '无此村'],
      [8, '拒绝', ['village_other_county'], [], '外县村'],
      [9, '导入', [], [], '首次'],
      [10, '拒绝', ['duplicate_in_file'], [], '重复'],
      [11, '拒绝', ['already_registered'], [], '已登记'],
      [12, '拒绝', ['household_village_mismatch'], [], '村不符'],
      [13, '拒绝', ['name_missing'], [], ''],
      [14, '拒绝', ['relationship_invalid'], [], '关系错'],
      [15, '拒绝', ['relocatee_kind_invalid'], [], '类别错'],
      [16, '拒绝', ['sex_mismatch'], [], '性别错'],
      [17, '拒绝', ['household_villages_differ'], [], '分村一'],
      [18, '拒绝', ['household_villages_differ'], [], '分村二'],
      [19, '拒绝', ['household_multiple_heads'], [], '户主一'],
      [20, '拒绝', ['household_multiple_heads'], [], '户主二'],
      [22, '拒绝', ['name_missing', 'id_checksum'], [], ''],
      [23, '导入', [], ['household_without_head'], '无户主'],
      [24, '导入', [], ['registered_elsewhere'], '外县有'],
    ]);
    // Labels are shown with the codes; rejected rows have no person, imported rows have one.
    expect(report[1]?.[2]).toBe('身份证号校验码错误[id_checksum]');
    expect(report[19]?.[2]).toBe('姓名为空[name_missing]；身份证号校验码错误[id_checksum]');
    for (const r of report) expect(r[6] === '').toBe(r[1] === '拒绝');
    // Masked IDs only: never 18 digits in a row, and the rejected 17-digit one is masked too.
    const raw = await (await t.call('GET', `/v1/imports/${done.id}/report`, { token: tok.op })).text();
    expect(raw).not.toMatch(/\d{15}/);
    expect(report[2]?.[5]).toMatch(/^\*{13}\d{4}$/);
    expect(await personsOfImport(done.id)).toHaveLength(4);
  });

  it('the same file again under a new key: a new import whose rows are all already registered', async () => {
    const rows = [person('R-1', '户主'), person('R-1', '配偶'), person('R-2', '户主')];
    const first = await importFile(csvOf(rows));
    expect(first.counts).toEqual({ total: 3, accepted: 3, rejected: 0 });
    const again = await importFile(csvOf(rows));
    expect(again.id).not.toBe(first.id);
    expect(again.counts).toEqual({ total: 3, accepted: 0, rejected: 3 });
    const report = await reportOf(again.id);
    expect(report.map((r) => codes(r[2]))).toEqual([
      ['already_registered'],
      ['already_registered'],
      ['already_registered'],
    ]);
    expect(await personsOfImport(again.id)).toHaveLength(0);
  });
});

describe('file formats', () => {
  it('XLSX: date cells, numeric codes, rich text, formulas and blank rows', async () => {
    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet('移民名单');
    sheet.addRow(HEADERS);
    const ids = [freshId('1950-05-05'), freshId('1952-06-06')];
    const cells = (id: string, name: unknown, rel: string, date: unknown) =>
      importColumns.map(
        (c) =>
          ({
            household_no: `${RUN}-X-1`,
            relationship: rel,
            name,
            national_id: id,
            reservoir: '丹江口水库',
            relocation_date: date,
            relocatee_kind: '其他',
            village_code: villages[2],
            bank_name: null,
            bank_account: null,
          })[c.key as string] ?? null,
      );
    sheet.addRow(
      cells(
        ids[0] as string,
        { richText: [{ text: '钱' }, { text: '七' }] },
        '户主',
        new Date(Date.UTC(1968, 8, 1)),
      ),
    );
    sheet.addRow([]);
    sheet.addRow(cells(ids[1] as string, { formula: '"孙"&"八"', result: '孙八' }, '妻子', '1968-09-01'));
    const file = Buffer.from(await wb.xlsx.writeBuffer());
    const done = await importFile(new Uint8Array(file), { type: XLSX, filename: 'list.xlsx' });
    expect(done).toMatchObject({
      status: 'completed',
      format: 'xlsx',
      counts: { total: 2, accepted: 2, rejected: 0 },
    });
    const report = await reportOf(done.id);
    expect(report.map((r) => [r[0], r[1], r[4]])).toEqual([
      ['2', '导入', '钱七'],
      ['4', '导入', '孙八'],
    ]);
    const persons = await personsOfImport(done.id);
    expect(
      persons.map((p) => [p.name, p.relocationDate, p.relationship, p.relocateeKind, p.reservoir]).sort(),
    ).toEqual([
      ['孙八', '1968-09-01', 'spouse', 'other', '丹江口水库'],
      ['钱七', '1968-09-01', 'head', 'other', '丹江口水库'],
    ]);
    expect(new Set(persons.map((p) => p.householdId)).size).toBe(1);
  });

  it('XLSX on a slow disk: the parts after the worksheets (shared strings, workbook.xml) are not lost', async () => {
    // exceljs writes the worksheets first and xl/workbook.xml last; its streaming reader parks each
    // worksheet in a temporary file until the workbook part is read. Here those files finish late (a
    // busy disk): unzipper then reaches the end of the archive first and its early 'end' made exceljs
    // drop the remaining parts ("Cannot read properties of undefined (reading 'sheets')", exceljs#3064).
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('移民名单').addRow(HEADERS);
    wb.getWorksheet('移民名单')?.addRow(['0001', '户主', '张三']);
    wb.addWorksheet('说明').addRow(['列名', '说明']);
    const file = Buffer.from(await wb.xlsx.writeBuffer());
    const createWriteStream = fs.createWriteStream;
    const slow = vi.spyOn(fs, 'createWriteStream').mockImplementation(((...args: unknown[]) => {
      const stream = (createWriteStream as (...a: unknown[]) => fs.WriteStream)(...args);
      const emit = stream.emit.bind(stream);
      stream.emit = ((event: string | symbol, ...rest: unknown[]) => {
        if (event !== 'finish') return emit(event, ...rest);
        setTimeout(() => emit(event, ...rest), 100);
        return true;
      }) as typeof stream.emit;
      return stream;
    }) as typeof fs.createWriteStream);
    try {
      async function* chunks(): AsyncGenerator<Buffer> {
        yield file;
      }
      const rows: unknown[][] = [];
      for await (const { cells } of readFileRows(chunks(), 'xlsx')) rows.push(cells);
      expect(slow).toHaveBeenCalled();
      expect(rows).toEqual([HEADERS, ['0001', '户主', '张三']]);
    } finally {
      slow.mockRestore();
    }
  });

  it('CSV in GB18030 (declared, and detected), with a UTF-8 BOM file alongside', async () => {
    const rows = [person('G-1', '户主', { name: '欧阳娜娜' })];
    const gb = gb18030(csvOf(rows));
    const declared = await importFile(new Uint8Array(gb), { type: 'text/csv; charset=GBK' });
    expect(declared).toMatchObject({ status: 'completed', counts: { accepted: 1 } });
    expect((await reportOf(declared.id))[0]?.[4]).toBe('欧阳娜娜');

    const detected = await importFile(
      new Uint8Array(gb18030(csvOf([person('G-2', '户主', { name: '诸葛亮' })]))),
    );
    expect((await reportOf(detected.id))[0]?.slice(1, 5)).toEqual(['导入', '', '', '诸葛亮']);

    const bom = await importFile(`\uFEFF${csvOf([person('G-3', '户主', { name: '司马光' })])}`);
    expect((await reportOf(bom.id))[0]?.slice(1, 5)).toEqual(['导入', '', '', '司马光']);
  });

  it('a header that does not match fails the import as a whole, naming the headers', async () => {
    const done = await importFile('户编号,姓名,身份证,备注\r\nH,张三,1,x\r\n');
    expect(done).toMatchObject({
      status: 'failed',
      counts: { total: null },
      error: {
        code: 'invalid_header',
        message:
          '表头不符合导入模板（缺少必填列: 与户主关系、身份证号、水库名称、搬迁日期、移民类别、安置村代码；无法识别的列 2 个，如「身份证」）。',
      },
      job: { status: 'failed' },
      links: { report: null },
    });
    const job = await json<JobBody>(await t.call('GET', done.links.job, { token: tok.op }));
    expect(job).toMatchObject({ status: 'failed', error: { code: 'invalid_header' } });
    const report = await t.call('GET', `/v1/imports/${done.id}/report`, { token: tok.op });
    expect(report.status).toBe(409);
    expect((await problem(report)).code).toBe('conflict');
  });

  it('a file without a header row: neither the ID nor the account of its first row is shown anywhere', async () => {
    const id = freshId();
    const account = '6228480012345678901';
    const first = person('NH-1', '户主', {
      name: '无表头',
      national_id: id,
      bank_name: '农村信用社',
      bank_account: account,
    });
    // No header: the first line is data.
    const file = `${[first, person('NH-1', '配偶')].map(line).join('\r\n')}\r\n`;
    const done = await importFile(file);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'invalid_header' } });
    expect(done.error?.message).toContain('第一行不是表头');
    const filled = importColumns.filter((c) => first[c.key]).length;
    expect(done.error?.message).toContain(`无法识别的列 ${filled} 个）`);
    const bodies = [
      await (await t.call('GET', done.links.self, { token: tok.op })).text(),
      await (await t.call('GET', '/v1/imports?limit=200', { token: tok.op })).text(),
      await (await t.call('GET', done.links.job, { token: tok.op })).text(),
    ];
    for (const body of bodies) {
      expect(body).toContain('invalid_header');
      for (const secret of [id, account, id.slice(6, 14), '无表头']) expect(body).not.toContain(secret);
    }
  });

  it('the report masks an ID or account number typed into a free-text cell (the name)', async () => {
    const typed = freshId();
    // Both rows are refused for their missing ID, so that no person holding a number in its name is left
    // in the county for other test files' lists (the registry keeps a name as it is typed).
    const done = await importFile(
      csvOf([
        person('NM-1', '户主', { name: `张三${typed}`, national_id: '' }),
        person('NM-1', '配偶', { name: '李四6228480012345678901', national_id: '' }),
      ]),
    );
    expect(done.status).toBe('completed');
    const report = await reportOf(done.id);
    expect(report.map((r) => r[4])).toEqual([
      `张三${typed.slice(0, 6)}********${typed.slice(14)}`,
      '李四****8901',
    ]);
  });

  it('an unreadable file fails the job (broken quoting; not an XLSX)', async () => {
    const csv = await importFile(`${HEADERS.join(',')}\n"unclosed,1\n`);
    expect(csv).toMatchObject({ status: 'failed', error: { code: 'file_unreadable' } });
    const xlsx = await importFile('not a zip file at all', { type: XLSX });
    expect(xlsx).toMatchObject({ status: 'failed', error: { code: 'file_unreadable' } });
  });

  it('templates: header-only CSV with BOM, XLSX with the 说明 sheet', async () => {
    const csv = await t.call('GET', '/v1/imports/template?format=csv', { token: tok.op });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toContain('attachment;');
    expect(Buffer.from(await csv.arrayBuffer()).toString('utf8')).toBe(`\uFEFF${HEADERS.join(',')}\r\n`);
    const xlsx = await t.call('GET', '/v1/imports/template?format=xlsx', { token: tok.auditor });
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-type')).toBe(XLSX);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await xlsx.arrayBuffer()) as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['移民名单', '说明']);
    const list = wb.getWorksheet('移民名单');
    expect((list?.getRow(1).values as unknown[] | undefined)?.slice(1)).toEqual(HEADERS);
    const help = wb.getWorksheet('说明');
    expect(help?.getCell('A2').value).toBe('户编号');
    expect(JSON.stringify(help?.getSheetValues())).toContain('原迁移民、其他');
  });
});

/** GB18030 bytes of text (a test-only encoder: the two-byte table read back through TextDecoder). */
function gb18030(text: string): Buffer {
  const table = new Map<string, number[]>();
  const decoder = new TextDecoder('gb18030');
  for (let a = 0x81; a <= 0xfe; a += 1) {
    for (let b = 0x40; b <= 0xfe; b += 1) {
      if (b === 0x7f) continue;
      const ch = decoder.decode(Uint8Array.of(a, b));
      if (!table.has(ch)) table.set(ch, [a, b]);
    }
  }
  const out: number[] = [];
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) out.push(ch.charCodeAt(0));
    else {
      const bytes = table.get(ch);
      if (!bytes) throw new Error(`no GB18030 two-byte code for ${ch}`);
      out.push(...bytes);
    }
  }
  return Buffer.from(out);
}

async function countRows(table: typeof schema.uploads | typeof schema.imports | typeof schema.uploadChunks) {
  const [row] = await withDivision(t.db, COUNTY, (tx) => tx.select({ n: count() }).from(table));
  return row?.n ?? 0;
}

describe('idempotency (required on this job-creating POST)', () => {
  it('same key and file: the first 202 again, nothing new kept; another file: 422; no key: 400', async () => {
    const key = randomUUID();
    const file = csvOf([person('I-1', '户主')]);
    const first = await post(file, { key });
    expect(first.status).toBe(202);
    const body = await first.text();
    const before = { uploads: await countRows(schema.uploads), chunks: await countRows(schema.uploadChunks) };

    const replay = await post(file, { key });
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe(first.headers.get('location'));
    expect(await replay.text()).toBe(body);
    expect({
      uploads: await countRows(schema.uploads),
      chunks: await countRows(schema.uploadChunks),
    }).toEqual(before);

    const other = await post(csvOf([person('I-2', '户主')]), { key });
    expect(other.status).toBe(422);
    expect((await problem(other)).code).toBe('idempotency_key_reused');
    const otherType = await post(file, { key, type: 'text/csv; charset=gb18030' });
    expect(otherType.status).toBe(422);

    const missing = await post(file, { key: null });
    expect(missing.status).toBe(400);
    expect((await problem(missing)).errors?.map((e) => e.field)).toEqual(['header.idempotency-key']);
    const bad = await post(file, { key: 'with space' });
    expect(bad.status).toBe(400);
    expect(await countRows(schema.uploads)).toBe(before.uploads);
    await t.jobs.runUntilIdle();
  });

  it('the uploaded file is deleted once the import completes or fails; a replay still answers the first 202', async () => {
    const chunksOf = async (importId: string) => {
      const [row] = rowsOf<{ upload_id: string; chunks: number; sha256: string | null; size_bytes: string }>(
        await t.admin.orm.execute(sql`
          SELECT i.upload_id, u.sha256, u.size_bytes::text,
                 (SELECT count(*)::int FROM upload_chunks c WHERE c.upload_id = i.upload_id) AS chunks
          FROM imports i JOIN uploads u ON u.division_code = i.division_code AND u.id = i.upload_id
          WHERE i.id = ${importId}`),
      );
      return row;
    };
    const cases = [
      { file: csvOf([person('P-1', '户主')]), status: 'completed' },
      { file: '户编号,姓名\r\nH,张三\r\n', status: 'failed' },
    ];
    for (const { file, status } of cases) {
      const key = randomUUID();
      const first = await post(file, { key });
      expect(first.status).toBe(202);
      const body = await first.text();
      const created = JSON.parse(body) as ImportBody;
      expect((await chunksOf(created.id))?.chunks).toBe(1);
      await t.jobs.runUntilIdle();
      const done = await json<ImportBody>(await t.call('GET', created.links.self, { token: tok.op }));
      expect(done.status).toBe(status);
      // The file's bytes are gone; its name, size and hash stay.
      expect(await chunksOf(created.id)).toMatchObject({
        chunks: 0,
        sha256: created.sha256,
        size_bytes: String(Buffer.byteLength(file)),
      });
      expect(done).toMatchObject({ sha256: created.sha256, size_bytes: Buffer.byteLength(file) });

      const replay = await post(file, { key });
      expect(replay.status).toBe(202);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(await replay.text()).toBe(body);
      expect(await t.jobs.runUntilIdle()).toEqual({ ran: 0, crashed: false });
    }
  });

  it.runIf(usingPostgres())('409 while the first request with the key is still uploading', async () => {
    const key = randomUUID();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const head = new TextEncoder().encode(`${HEADERS.join(',')}\n`);
    const slow = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(head);
        await gate;
        controller.enqueue(new TextEncoder().encode(`${line(person('S-1', '户主'))}\n`));
        controller.close();
      },
    });
    const firstPromise = post(slow, { key });
    await new Promise((r) => setTimeout(r, 300));
    const second = await post(csvOf([person('S-1', '户主')]), { key });
    expect(second.status).toBe(409);
    expect(second.headers.get('retry-after')).toBe('1');
    release();
    expect((await firstPromise).status).toBe(202);
    await t.jobs.runUntilIdle();
  });
});

describe('limits and media types', () => {
  let small: TestApp;
  beforeAll(async () => {
    small = await createTestApp({ config: { HOUFU_IMPORT_MAX_BYTES: 2048 } });
  });
  afterAll(() => small.close());

  const postSmall = async (body: NonNullable<RequestInit['body']>, headers: Record<string, string> = {}) => {
    const init: RequestInit & { duplex?: 'half' } = {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await small.token(COUNTY, ['county_operator'])}`,
        'content-type': CSV,
        'idempotency-key': randomUUID(),
        ...headers,
      },
      body,
    };
    if (body instanceof ReadableStream) init.duplex = 'half';
    return small.app.request('/v1/imports', init);
  };
  const uploads = async () => {
    const [row] = await withDivision(small.db, COUNTY, (tx) =>
      tx.select({ n: count() }).from(schema.uploads),
    );
    return row?.n;
  };

  it('413 over HOUFU_IMPORT_MAX_BYTES, from Content-Length or counted while streaming; nothing kept', async () => {
    const before = await uploads();
    const big = 'x'.repeat(3000);
    const declared = await postSmall(big, { 'content-length': '3000' });
    expect(declared.status).toBe(413);
    expect((await problem(declared)).code).toBe('payload_too_large');

    const piece = new TextEncoder().encode('y'.repeat(500));
    let sent = 0;
    const chunked = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10) controller.close();
        else {
          sent += 1;
          controller.enqueue(piece);
        }
      },
    });
    const streamed = await postSmall(chunked);
    expect(streamed.status).toBe(413);
    expect(sent).toBeLessThan(10);
    expect(await uploads()).toBe(before);

    const fits = await postSmall('a'.repeat(2048));
    expect(fits.status).toBe(202);
    expect(await uploads()).toBe((before ?? 0) + 1);
    await small.jobs.runUntilIdle();
  });

  it('a body over the 1 MiB JSON limit is accepted on this route (streamed into 1 MiB chunks)', async () => {
    const rows = Array.from({ length: 16_000 }, (_, i) =>
      line(person(`L-${i}`, '户主', { national_id: 'x' })),
    );
    const file = `${HEADERS.join(',')}\n${rows.join('\n')}\n`;
    expect(Buffer.byteLength(file)).toBeGreaterThan(1024 * 1024);
    const res = await post(file, { key: randomUUID() });
    expect(res.status).toBe(202);
    const { id } = await json<ImportBody>(res);
    const chunks = await withDivision(t.db, COUNTY, (tx) =>
      tx
        .select({
          seq: schema.uploadChunks.seq,
          size: sql<number>`octet_length(${schema.uploadChunks.data})`,
        })
        .from(schema.uploadChunks)
        .innerJoin(schema.imports, eq(schema.imports.uploadId, schema.uploadChunks.uploadId))
        .where(eq(schema.imports.id, id))
        .orderBy(schema.uploadChunks.seq),
    );
    expect(chunks.map((c) => c.seq)).toEqual([0, 1]);
    expect(Number(chunks[0]?.size)).toBe(1024 * 1024);
    expect(Number(chunks[0]?.size) + Number(chunks[1]?.size)).toBe(Buffer.byteLength(file));
    await t.jobs.runUntilIdle();
    const done = await json<ImportBody>(await t.call('GET', `/v1/imports/${id}`, { token: tok.op }));
    expect(done).toMatchObject({
      status: 'completed',
      counts: { total: 16_000, accepted: 0, rejected: 16_000 },
    });
  });

  it('415 for other media types; 400 for an empty file', async () => {
    for (const type of [
      'application/json',
      'text/plain',
      'text/csv; charset=latin1',
      'application/vnd.ms-excel',
    ]) {
      const res = await post('a,b\n', { type });
      expect(res.status, type).toBe(415);
      expect((await problem(res)).code).toBe('unsupported_media_type');
    }
    const empty = await post('');
    expect(empty.status).toBe(400);
    expect((await problem(empty)).errors?.map((e) => e.field)).toEqual(['body']);
  });
});

describe('tenancy and audit', () => {
  let imported: ImportBody;
  beforeAll(async () => {
    imported = await importFile(csvOf([person('T-1', '户主')]), { filename: 'tenancy.csv' });
  });

  it("another county's import, job and report answer 404", async () => {
    for (const token of [tok.other, tok.wuhan]) {
      for (const path of [imported.links.self, imported.links.job, `${imported.links.self}/report`]) {
        const res = await t.call('GET', path, { token });
        expect(res.status, path).toBe(404);
        expect((await problem(res)).code).toBe('not_found');
      }
    }
    const list = await json<{ data: ImportBody[] }>(
      await t.call('GET', '/v1/imports?limit=200', { token: tok.other }),
    );
    expect(list.data.map((i) => i.id)).not.toContain(imported.id);
  });

  it('the city and an auditor above the county read its imports, jobs and reports; only the county imports', async () => {
    for (const token of [tok.city, tok.auditor]) {
      expect((await t.call('GET', imported.links.self, { token })).status).toBe(200);
      expect((await t.call('GET', imported.links.job, { token })).status).toBe(200);
      expect((await reportOf(imported.id, token)).length).toBe(1);
      const list = await json<{ data: ImportBody[] }>(
        await t.call('GET', '/v1/imports?limit=200', { token }),
      );
      expect(list.data.map((i) => i.id)).toContain(imported.id);
    }
    const city = await post(csvOf([person('T-2', '户主')]), { token: tok.city });
    expect(city.status).toBe(403);
    const auditor = await post(csvOf([person('T-2', '户主')]), { token: tok.auditor });
    expect(auditor.status).toBe(403);
  });

  it('lists newest first with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 200; i += 1) {
      const res = await t.call(
        'GET',
        `/v1/imports?limit=${i === 0 ? 2 : 50}${cursor ? `&cursor=${cursor}` : ''}`,
        { token: tok.op },
      );
      expect(res.status).toBe(200);
      const page = await json<{ data: (ImportBody & { created_at: string })[]; next_cursor: string | null }>(
        res,
      );
      seen.push(...page.data.map((d) => d.id));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen[0]).toBe(imported.id);
    const all = await withDivision(t.db, COUNTY, (tx) => tx.select({ n: count() }).from(schema.imports));
    expect(seen.length).toBe(all[0]?.n);
    expect((await t.call('GET', '/v1/imports?cursor=bm9wZQ', { token: tok.op })).status).toBe(400);
  });

  it('writes import.create (the request) and import.apply (the job) to the audit chain', async () => {
    const events = await withDivision(t.db, COUNTY, (tx) =>
      tx
        .select()
        .from(schema.auditEvents)
        .where(and(eq(schema.auditEvents.entityType, 'import'), eq(schema.auditEvents.entityId, imported.id)))
        .orderBy(schema.auditEvents.seq),
    );
    expect(events.map((e) => e.action)).toEqual(['import.create', 'import.apply']);
    expect(events[0]?.changes).toMatchObject({
      filename: { new: 'tenancy.csv' },
      file_sha256: { new: imported.sha256 },
      job_id: { new: imported.job.id },
    });
    expect(events[1]).toMatchObject({ actorSub: 'user:county_operator:420581', actorKind: 'user' });
    expect(events[1]?.changes).toMatchObject({
      rows_total: { new: 1 },
      rows_accepted: { new: 1 },
      rows_rejected: { new: 0 },
      file_sha256: { new: imported.sha256 },
    });
    const verify = await t.call('GET', `/v1/audit-events/verification?division=${COUNTY}`, {
      token: tok.auditor,
    });
    expect(verify.status).toBe(200);
    expect(await verify.json()).toMatchObject({ valid: true });
  });
});

describe('a failure reading the stored file (the database, not the file)', () => {
  const dbError = () => Object.assign(new Error('connection reset by peer'), { code: 'ECONNRESET' });

  async function xlsxFile(rows: Cells[]): Promise<Buffer> {
    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet('移民名单');
    sheet.addRow(HEADERS);
    for (const r of rows) sheet.addRow(importColumns.map((c) => r[c.key] ?? null));
    return Buffer.from(await wb.xlsx.writeBuffer());
  }

  it('the reader passes it on as it is, not as an unreadable file (CSV and XLSX)', async () => {
    const csv = Buffer.from(csvOf([person('R-1', '户主'), person('R-1', '配偶')]));
    const xlsx = await xlsxFile([person('R-2', '户主')]);
    for (const [format, bytes] of [
      ['csv', csv],
      ['xlsx', xlsx],
    ] as const) {
      for (const cut of [0, Math.floor(bytes.length / 2)]) {
        const error = dbError();
        async function* chunks(): AsyncGenerator<Buffer> {
          if (cut > 0) yield bytes.subarray(0, cut);
          throw error;
        }
        const read = async () => {
          for await (const _row of readFileRows(chunks(), format)) {
            // read to the end
          }
        };
        await expect(read(), `${format} cut at ${cut}`).rejects.toBe(error);
      }
      // The file's own problems are still the file's.
      async function* broken(): AsyncGenerator<Buffer> {
        yield format === 'csv'
          ? Buffer.from(`${HEADERS.join(',')}\n"unclosed,1\n`)
          : Buffer.from('not a zip');
      }
      const readBroken = async () => {
        for await (const _row of readFileRows(broken(), format)) {
          // read to the end
        }
      };
      await expect(readBroken()).rejects.toBeInstanceOf(UnreadableFileError);
    }
  });

  it('the job is handed back and retried, not failed as file_unreadable', async () => {
    const file = await xlsxFile([person('R-3', '户主')]);
    const res = await post(new Uint8Array(file), { type: XLSX });
    expect(res.status).toBe(202);
    const created = await json<ImportBody>(res);
    const failing = createJobRunner({
      db: t.db,
      logger: createLogger('silent'),
      handlers: [
        registryImportHandler({
          sealer: t.sealer,
          now: () => new Date(),
          readChunk: async () => {
            throw dbError();
          },
        }),
      ],
      queue: t.jobs.queue,
    });
    expect(await failing.runUntilIdle()).toEqual({ ran: 1, crashed: false });
    const after = await json<ImportBody>(await t.call('GET', created.links.self, { token: tok.op }));
    expect(after.status).not.toBe('failed');
    expect(after.error).toBeNull();
    const job = await json<JobBody & { attempts: number }>(
      await t.call('GET', created.links.job, { token: tok.op }),
    );
    expect(job).toMatchObject({ status: 'running', attempts: 1, error: null });

    // Past the back-off, the next claim reads the file and completes the import.
    await t.admin.orm.execute(
      sql`UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = ${created.job.id}`,
    );
    expect(await t.jobs.runUntilIdle()).toEqual({ ran: 1, crashed: false });
    const done = await json<ImportBody>(await t.call('GET', created.links.self, { token: tok.op }));
    expect(done).toMatchObject({
      status: 'completed',
      counts: { accepted: 1 },
      job: { status: 'succeeded' },
    });
  });
});

describe('crash and resume', () => {
  it('killed while staging, while checking and while applying: resumes to the exact result, no duplicates', async () => {
    const n = 2 * STAGE_BATCH + 500;
    // Distinct IDs: consecutive birth dates from a random start, one random sequence for the run.
    const start = Date.UTC(1930, 0, 1) + Math.floor(Math.random() * 10_000) * 86_400_000;
    const seq = Math.floor(Math.random() * 1000);
    const idAt = (i: number) =>
      makeNationalId(COUNTY, new Date(start + i * 86_400_000).toISOString().slice(0, 10), seq);
    const badCheck = (id: string) => id.slice(0, 17) + (id.endsWith('1') ? '2' : '1');
    const rows = Array.from({ length: n }, (_, i) => {
      const id = i === 11 ? idAt(10) : i % 100 === 99 ? badCheck(idAt(i)) : idAt(i);
      return person(`C-${Math.floor(i / 4)}`, i % 4 === 0 ? '户主' : '子女', {
        name: `崩溃${i}`,
        national_id: id,
      });
    });
    // Unique IDs apart from the planned duplicate (freshId is random).
    const ids = new Set(rows.map((r) => r.national_id));
    expect(ids.size).toBe(n - 1);
    const res = await post(csvOf(rows));
    expect(res.status).toBe(202);
    const created = await json<ImportBody>(res);
    const jobRow = async () => {
      const [job] = await withDivision(t.db, COUNTY, (tx) =>
        tx.select().from(schema.jobs).where(eq(schema.jobs.id, created.job.id)),
      );
      return job as schema.PersonRow extends never ? never : NonNullable<typeof job>;
    };
    const stagedRows = async () => {
      const [row] = rowsOf<{ n: number; distinct_rows: number }>(
        await t.admin.orm.execute(
          sql`SELECT count(*)::int AS n, count(DISTINCT row_no)::int AS distinct_rows FROM import_rows WHERE import_id = ${created.id}`,
        ),
      );
      return row;
    };
    const expireLease = () =>
      t.admin.orm.execute(
        sql`UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = ${created.job.id}`,
      );

    // 1. Killed right after the second staging batch committed.
    const first = await t.jobs.runUntilIdle({
      hooks: {
        afterCommit: (_job, p) => {
          if (p.phase === 'staging' && p.checkpoint?.rows === 2 * STAGE_BATCH) throw new SimulatedCrash();
        },
      },
    });
    expect(first).toEqual({ ran: 1, crashed: true });
    expect(await stagedRows()).toEqual({ n: 2 * STAGE_BATCH, distinct_rows: 2 * STAGE_BATCH });
    expect(await jobRow()).toMatchObject({
      status: 'running',
      phase: 'staging',
      attempts: 1,
      checkpoint: { phase: 'staging', staged_through: 2 * STAGE_BATCH + 1, rows: 2 * STAGE_BATCH },
    });
    // The lease still holds: nobody takes the job over yet.
    expect(await t.jobs.runUntilIdle()).toEqual({ ran: 0, crashed: false });

    // 2. Resumed, then killed inside the checking transaction (before its commit).
    await expireLease();
    const second = await t.jobs.runUntilIdle({
      hooks: {
        beforeCommit: (_job, p) => {
          if (p.phase === 'applying') throw new SimulatedCrash();
        },
      },
    });
    expect(second.crashed).toBe(true);
    expect(await stagedRows()).toEqual({ n, distinct_rows: n });
    expect(await jobRow()).toMatchObject({
      phase: 'checking',
      attempts: 2,
      checkpoint: { phase: 'checking', rows: n },
    });

    // 3. Resumed, then killed inside the applying transaction (before its commit): nothing applied.
    await expireLease();
    const third = await t.jobs.runUntilIdle({
      hooks: {
        beforeCommit: (_job, p) => {
          if (p.phase === 'completed') throw new SimulatedCrash();
        },
      },
    });
    expect(third.crashed).toBe(true);
    expect(await personsOfImport(created.id)).toHaveLength(0);
    expect(await jobRow()).toMatchObject({ phase: 'applying', attempts: 3 });
    const mid = await json<ImportBody>(await t.call('GET', created.links.self, { token: tok.op }));
    expect(mid.status).toBe('applying');

    // 4. Resumed to the end.
    await expireLease();
    expect(await t.jobs.runUntilIdle()).toEqual({ ran: 1, crashed: false });
    const rejectedRows = [...Array.from({ length: n / 100 }, (_, k) => k * 100 + 99 + 2), 11 + 2].sort(
      (a, b) => a - b,
    );
    const done = await json<ImportBody>(await t.call('GET', created.links.self, { token: tok.op }));
    expect(done).toMatchObject({
      status: 'completed',
      counts: { total: n, accepted: n - rejectedRows.length, rejected: rejectedRows.length },
    });
    expect(await jobRow()).toMatchObject({ status: 'succeeded', attempts: 4 });
    expect(await stagedRows()).toEqual({ n, distinct_rows: n });
    const persons = await personsOfImport(created.id);
    expect(persons).toHaveLength(n - rejectedRows.length);
    expect(new Set(persons.map((p) => p.idHash.toString())).size).toBe(persons.length);
    const report = await reportOf(created.id);
    expect(report.map((r) => Number(r[0]))).toEqual(Array.from({ length: n }, (_, i) => i + 2));
    expect(report.filter((r) => r[1] === '拒绝').map((r) => Number(r[0]))).toEqual(rejectedRows);
    expect(codes(report[11]?.[2])).toEqual(['duplicate_in_file']);
    const applies = await withDivision(t.db, COUNTY, (tx) =>
      tx
        .select({ n: count() })
        .from(schema.auditEvents)
        .where(
          and(eq(schema.auditEvents.action, 'import.apply'), eq(schema.auditEvents.entityId, created.id)),
        ),
    );
    expect(applies[0]?.n).toBe(1);
  });
});

describe('imports of two counties at once (concurrent jobs)', () => {
  it.runIf(usingPostgres())(
    'the same ID applied by both at the same time: registered in each, one conflict opened for review',
    async () => {
      const id = freshId();
      const hashHex = t.sealer.lookupHash(id).toString('hex');
      const bucket = t.sealer.lookupHash(id)[0] as number;
      const a = await post(csvOf([person('PAR-1', '户主', { name: '并发甲', national_id: id })]));
      const b = await post(
        csvOf([
          person('PAR-2', '户主', { name: '并发乙', national_id: id, village_code: String(otherVillage) }),
        ]),
        { token: tok.other },
      );
      expect([a.status, b.status]).toEqual([202, 202]);
      const runners = [0, 1].map(() =>
        createJobRunner({
          db: t.db,
          logger: createLogger('silent'),
          handlers: [registryImportHandler({ sealer: t.sealer, now: () => new Date() })],
          queue: t.jobs.queue,
        }),
      );
      // The first import to reach the end of its apply transaction (conflict detection done, not yet
      // committed) waits there until the other one waits for the lock on the ID's hash bucket: the
      // other's detection then runs after this commit. Without that lock neither would see the other.
      let held = false;
      let otherWaited = false;
      const hooks = {
        beforeCommit: async (_job: unknown, progress: { phase?: string | undefined }) => {
          if (progress.phase !== 'completed' || held) return;
          held = true;
          // Less than the idle-in-transaction timeout of the test connections (10 s).
          const deadline = Date.now() + 5_000;
          while (Date.now() < deadline) {
            const [w] = rowsOf<{ n: number | string }>(
              await t.admin.orm.execute(sql`
                SELECT count(*) AS n FROM pg_locks
                WHERE locktype = 'advisory' AND classid = 7340 AND objid = ${bucket} AND objsubid = 2
                  AND NOT granted`),
            );
            if (Number(w?.n) > 0) {
              otherWaited = true;
              return;
            }
            await new Promise((r) => setTimeout(r, 20));
          }
        },
      };
      const runs = await Promise.all(runners.map((r) => r.runUntilIdle({ hooks })));
      expect(runs.reduce((n, r) => n + r.ran, 0)).toBe(2);
      const persons = rowsOf<{ division_code: number }>(
        await t.admin.orm.execute(
          sql`SELECT division_code FROM persons WHERE encode(id_hash, 'hex') = ${hashHex} ORDER BY 1`,
        ),
      );
      expect(persons.map((p) => Number(p.division_code))).toEqual([COUNTY, OTHER]);
      const conflicts = rowsOf<{ county_a: number; county_b: number }>(
        await t.admin.orm.execute(
          sql`SELECT county_a, county_b FROM registry_conflicts
              WHERE encode(id_hash, 'hex') = ${hashHex} AND status = 'open'`,
        ),
      );
      expect(conflicts.map((c) => [Number(c.county_a), Number(c.county_b)])).toEqual([[COUNTY, OTHER]]);
      // …and the two apply transactions did overlap (the second waited on the first's lock).
      expect(otherWaited).toBe(true);
    },
  );
});

describe('bounded memory', () => {
  it('a 100,000-row CSV, generated as a stream, is parsed, validated and sealed with bounded heap', async () => {
    const rowsTotal = 100_000;
    const village = String(villages[0]);
    const ids = Array.from({ length: 1000 }, () => freshId());
    async function* file(): AsyncGenerator<Buffer> {
      yield Buffer.from(`\uFEFF${HEADERS.join(',')}\r\n`);
      let lines: string[] = [];
      for (let i = 0; i < rowsTotal; i += 1) {
        lines.push(
          `H${Math.floor(i / 4)},${i % 4 === 0 ? '户主' : '子女'},姓名${i},${ids[i % 1000]},,,三峡水库,2003-05-01,原迁移民,${village},农村信用社,62284800${String(i).padStart(11, '0')}`,
        );
        if (lines.length === 500) {
          yield Buffer.from(`${lines.join('\r\n')}\r\n`);
          lines = [];
        }
      }
      if (lines.length > 0) yield Buffer.from(`${lines.join('\r\n')}\r\n`);
    }
    // A full collection before each sample: what is measured is the memory still held, not garbage.
    v8.setFlagsFromString('--expose_gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    let layout: ReturnType<typeof resolveImportHeader> | undefined;
    let staged = 0;
    let accepted = 0;
    let bytesSealed = 0;
    for await (const { rowNo, cells } of readFileRows(file(), 'csv')) {
      if (!layout) {
        layout = resolveImportHeader(cells);
        expect(layout.ok).toBe(true);
        continue;
      }
      if (!layout.ok) throw new Error('header');
      const row = stagedRow(
        rowNo,
        validateImportRow(cells, layout.layout, { county: COUNTY, today: '2026-06-01' }),
        t.sealer,
      );
      staged += 1;
      if (row.errors.length === 0) accepted += 1;
      bytesSealed += row.idSealed?.length ?? 0;
      if (staged % 5_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }
    }
    expect(staged).toBe(rowsTotal);
    expect(accepted).toBe(rowsTotal);
    expect(bytesSealed).toBeGreaterThan(rowsTotal * 40);
    // Keeping the staged rows instead of streaming them would hold well over 100 MB.
    const growthMb = (peak - baseline) / 2 ** 20;
    expect(growthMb).toBeLessThan(24);
  });
});
