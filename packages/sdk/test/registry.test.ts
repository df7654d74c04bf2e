/**
 * The SDK over the registry, in-process against the app: households and persons through the typed
 * client, masked lists with paginate, status events, and imports — uploadImport, waitForJob (the
 * test app's job runner is driven by the test, never started), the per-row report, idempotent
 * re-uploads, downloads of the template and the public notice.
 */
import { randomUUID } from 'node:crypto';
import { createTestApp, makeNationalId, makeTownship, type TestApp } from '@houfu/api/testing';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  CSV_MEDIA_TYPE,
  createHoufuClient,
  type DownloadPath,
  dispositionFilename,
  type FetchLike,
  HoufuApiError,
  type HoufuClient,
  type Import,
  type Job,
  JobTimeoutError,
  unwrap,
  XLSX_MEDIA_TYPE,
} from '../src/index.js';

/** 宜都市, a county of 宜昌市 (420500). */
const COUNTY = 420581;
const CITY = 420500;
/** Per run: households are unique per county, and a PostgreSQL test database is shared by test files. */
const RUN = randomUUID().slice(0, 6);
/** First 6 and last 4 characters, never more. */
const MASKED = /^420581\*{8}[\dX]{4}$/;
const FULL_ID = /\d{17}[\dX]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The template's headers, in order (the contract of docs/registry-imports.md). */
const HEADERS = [
  '户编号',
  '与户主关系',
  '姓名',
  '身份证号',
  '性别',
  '出生日期',
  '水库名称',
  '搬迁日期',
  '移民类别',
  '安置村代码',
  '开户银行',
  '银行账号',
];

let t: TestApp;
let operatorToken: string;

beforeAll(async () => {
  t = await createTestApp();
  operatorToken = await t.token(COUNTY, ['county_operator'], `user:sdk-registry-${COUNTY}`);
});

afterAll(async () => {
  await t?.close();
});

interface Sent {
  method: string;
  path: string;
  idempotencyKey: string | null;
  contentType: string | null;
  status: number;
  replayed: string | null;
}

/**
 * The app's in-process fetch, recording every attempt and its answer. `intercept` may answer an
 * attempt itself; `after` runs once an answer was produced (before the SDK sees it).
 */
function inProcess(
  hooks: {
    intercept?: (request: Request, index: number) => Promise<Response | undefined>;
    after?: (request: Request, response: Response) => Promise<void>;
  } = {},
) {
  const sent: Sent[] = [];
  const fetch: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    const index = sent.length;
    const record: Sent = {
      method: request.method,
      path: new URL(request.url).pathname,
      idempotencyKey: request.headers.get('idempotency-key'),
      contentType: request.headers.get('content-type'),
      status: 0,
      replayed: null,
    };
    sent.push(record);
    const response = (await hooks.intercept?.(request, index)) ?? (await t.app.fetch(request));
    record.status = response.status;
    record.replayed = response.headers.get('idempotent-replayed');
    await hooks.after?.(request, response);
    return response;
  };
  return { fetch, sent };
}

function sdk(fetch: FetchLike, token = operatorToken): HoufuClient {
  return createHoufuClient({ baseUrl: 'http://houfu.test', fetch, token, retry: { baseDelayMs: 5 } });
}

/** A valid ID of the county unlikely to repeat across runs: random birth date and sequence. */
function freshId(): string {
  const birth = new Date(Date.UTC(1940, 0, 1) + Math.floor(Math.random() * 60 * 365) * 86_400_000);
  return makeNationalId(COUNTY, birth.toISOString().slice(0, 10), Math.floor(Math.random() * 1000));
}

/** RFC 4180 CSV (quoted cells, "" escapes, CRLF), a leading BOM ignored. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i += 1) {
    const ch = src[i] as string;
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || (ch === '\r' && src[i + 1] === '\n')) {
      if (ch === '\r') i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

type Row = Record<string, string>;
const csvOf = (rows: Row[]) =>
  `${[HEADERS.join(','), ...rows.map((r) => HEADERS.map((h) => r[h] ?? '').join(','))].join('\r\n')}\r\n`;

function importRow(household: string, relationship: string, name: string, village: number, over: Row = {}) {
  return {
    户编号: `${RUN}-${household}`,
    与户主关系: relationship,
    姓名: name,
    身份证号: freshId(),
    水库名称: '三峡水库',
    搬迁日期: '2003-05-01',
    移民类别: '原迁移民',
    安置村代码: String(village),
    ...over,
  };
}

async function caught(promise: Promise<unknown>): Promise<HoufuApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HoufuApiError) return error;
    throw error;
  }
  throw new Error('expected a HoufuApiError');
}

async function freshVillage(): Promise<number> {
  return (await newVillage()).code;
}

async function newVillage(): Promise<{ code: number; name: string }> {
  const { villages } = await makeTownship(t.db, COUNTY, 1);
  return villages[0]!;
}

describe('households, persons and status events through the typed client', () => {
  it('registers a household and two persons, lists them masked with paginate, records a death, reads the status on dates', async () => {
    const { code: village, name: villageName } = await newVillage();
    const { fetch, sent } = inProcess();
    const houfu = sdk(fetch);

    const household = unwrap(
      await houfu.POST('/v1/households', {
        body: { household_no: `${RUN}-api-0001`, village_code: village },
      }),
    );
    expect(household).toMatchObject({ county_code: COUNTY, village_code: village, members: 0, version: 1 });

    const ids = [freshId(), freshId()];
    const person = (national_id: string, relationship: 'head' | 'spouse', name: string) =>
      houfu.POST('/v1/persons', {
        body: {
          household_id: household.id,
          relationship,
          name,
          national_id,
          reservoir: '三峡水库',
          relocation_date: '2003-05-01',
          relocatee_kind: 'original',
          registered_on: '2006-07-01',
        },
      });
    const head = unwrap(await person(ids[0]!, 'head', '张三'));
    const spouse = unwrap(await person(ids[1]!, 'spouse', '李秀英'));
    expect(head).toMatchObject({ household_id: household.id, status: 'registered', open_conflict: false });
    expect(head.national_id_masked).toMatch(MASKED);
    expect(head.national_id_masked.slice(-4)).toBe(ids[0]!.slice(-4));
    // Every POST got its own generated key.
    const posts = sent.filter((s) => s.method === 'POST');
    expect(posts.map((s) => s.idempotencyKey)).toHaveLength(3);
    expect(new Set(posts.map((s) => s.idempotencyKey)).size).toBe(3);

    // One person a page: paginate follows the cursor.
    sent.length = 0;
    const listed = [];
    for await (const p of houfu.paginate('/v1/persons', { params: { query: { village, limit: 1 } } })) {
      listed.push(p);
    }
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(listed.map((p) => p.id).sort()).toEqual([head.id, spouse.id].sort());
    for (const p of listed) {
      expect(p.national_id_masked).toMatch(MASKED);
      expect(JSON.stringify(p)).not.toMatch(FULL_ID);
    }

    const recorded = unwrap(
      await houfu.POST('/v1/persons/{id}/events', {
        params: { path: { id: head.id } },
        body: { kind: 'death', effective_date: '2015-03-15', evidence_ref: '死亡证明 2015-0042' },
      }),
    );
    expect(recorded.event).toMatchObject({ kind: 'death', effective_date: '2015-03-15', voided: false });
    expect(recorded.person).toMatchObject({ id: head.id, status: 'deceased', version: 2 });

    const statusOn = async (on: string) =>
      unwrap(
        await houfu.GET('/v1/persons/{id}/status', { params: { path: { id: head.id }, query: { on } } }),
      );
    expect(await statusOn('2015-03-14')).toMatchObject({
      person_id: head.id,
      on: '2015-03-14',
      status: 'registered',
      supported: true,
    });
    expect(await statusOn('2015-03-15')).toMatchObject({ status: 'deceased', supported: false });

    // The public notice of the village: CSV (text) and printable HTML, IDs masked.
    const notice2013 = await houfu.download('/v1/registry/notice', {
      params: { query: { village, year: 2013, format: 'csv' } },
    });
    expect(notice2013.contentType).toMatch(/^text\/csv/);
    // The UTF-8 name of Content-Disposition (filename*), not its ASCII fallback.
    expect(notice2013.filename).toBe(`公示-${villageName}-2013.csv`);
    const table = parseCsv(notice2013.data);
    expect(table[0]).toEqual(['户编号', '姓名', '性别', '身份证号', '与户主关系', '移民类别']);
    expect(table.slice(1).map((r) => [r[1], r[4]])).toEqual([
      ['张三', '户主'],
      ['李秀英', '配偶'],
    ]);
    for (const r of table.slice(1)) expect(r[3]).toMatch(MASKED);
    for (const id of ids) expect(notice2013.data).not.toContain(id);
    // Dead since March 2015: not on the 2015 notice.
    const notice2015 = await houfu.download('/v1/registry/notice', {
      params: { query: { village, year: 2015, format: 'csv' } },
    });
    expect(parseCsv(notice2015.data).map((r) => r[1])).toEqual(['姓名', '李秀英']);
    const html = await houfu.download('/v1/registry/notice', {
      params: { query: { village, year: 2013, format: 'html' } },
    });
    expect(html.contentType).toMatch(/^text\/html/);
    expect(html.data).toContain('<html lang="zh-CN">');
    expect(html.data.match(/420581\*{8}[\dX]{4}/g)).toHaveLength(2);
  });

  it('an error answer of a download throws HoufuApiError', async () => {
    const houfu = sdk(inProcess().fetch);
    const error = await caught(
      houfu.download('/v1/registry/notice', { params: { query: { village: 420581999999, year: 2013 } } }),
    );
    expect(error.status).toBe(404);
    expect(error.code).toBe('not_found');
  });
});

describe('imports: uploadImport, waitForJob, the report', () => {
  it('3 good rows and 1 bad: waitForJob polls until succeeded, counts 3/1, a masked report of 4 rows', async () => {
    const village = await freshVillage();
    const rows = [
      importRow('0001', '户主', '王五', village),
      importRow('0001', '配偶', '赵六', village),
      importRow('0001', '子女', '王小五', village),
      importRow('0002', '户主', '陈一', village, { 移民类别: '未知' }),
    ];
    // Deterministic: the runner runs once, right after the first poll of the job was answered —
    // the first poll sees the job queued, the second (after the backoff) sees it succeeded.
    let ran: { ran: number } | undefined;
    const { fetch, sent } = inProcess({
      after: async (request) => {
        if (!ran && new URL(request.url).pathname.startsWith('/v1/jobs/')) ran = await t.jobs.runUntilIdle();
      },
    });
    const houfu = sdk(fetch);

    const created: Import = await houfu.uploadImport(csvOf(rows), { filename: '2026年移民名单.csv' });
    expect(created).toMatchObject({
      county_code: COUNTY,
      status: 'queued',
      format: 'csv',
      filename: '2026年移民名单.csv',
      media_type: 'text/csv; charset=utf-8',
      counts: { total: null, accepted: null, rejected: null },
      job: { status: 'queued' },
      links: { self: `/v1/imports/${created.id}`, job: `/v1/jobs/${created.job.id}`, report: null },
    });
    expect(sent[0]).toMatchObject({
      method: 'POST',
      path: '/v1/imports',
      contentType: 'text/csv; charset=utf-8',
      status: 202,
    });
    expect(sent[0]?.idempotencyKey).toMatch(UUID);

    const seen: Job['status'][] = [];
    const job = await houfu.waitForJob(created.job.id, {
      intervalMs: 5,
      onPoll: (j) => seen.push(j.status),
    });
    expect(ran).toEqual({ ran: 1, crashed: false });
    expect(seen).toEqual(['queued', 'succeeded']);
    expect(job).toMatchObject({
      id: created.job.id,
      kind: 'registry.import',
      status: 'succeeded',
      error: null,
      links: { resource: `/v1/imports/${created.id}` },
    });
    expect(job.progress.percent).toBe(100);

    const done = unwrap(await houfu.GET('/v1/imports/{id}', { params: { path: { id: created.id } } }));
    expect(done).toMatchObject({
      status: 'completed',
      counts: { total: 4, accepted: 3, rejected: 1 },
      job: { id: created.job.id, status: 'succeeded' },
      links: { report: `/v1/imports/${created.id}/report` },
    });

    const report = await houfu.download('/v1/imports/{id}/report', {
      params: { path: { id: created.id } },
    });
    expect(report.contentType).toMatch(/^text\/csv/);
    expect(report.filename).toBe(`导入报告-${created.id}.csv`);
    const [header, ...lines] = parseCsv(report.data);
    expect(header).toEqual(['行号', '结果', '错误', '警告', '姓名', '身份证号', '人员ID']);
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => [l[0], l[1], l[4]])).toEqual([
      ['2', '导入', '王五'],
      ['3', '导入', '赵六'],
      ['4', '导入', '王小五'],
      ['5', '拒绝', '陈一'],
    ]);
    expect(lines[3]?.[2]).toContain('[relocatee_kind_invalid]');
    expect(lines[3]?.[6]).toBe('');
    for (const [i, line] of lines.entries()) {
      expect(line[5]).toMatch(MASKED);
      expect(line[5]?.slice(-4)).toBe(rows[i]!.身份证号!.slice(-4));
      if (i < 3) expect(line[6]).toMatch(UUID);
    }
    for (const r of rows) expect(report.data).not.toContain(r.身份证号);
    // The bytes keep the BOM that the text drops.
    const bytes = await houfu.download('/v1/imports/{id}/report', {
      params: { path: { id: created.id } },
      as: 'bytes',
    });
    expect([...bytes.data.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    // A large report can be read as a stream with the typed GET (as the README says).
    const streamed = await houfu.GET('/v1/imports/{id}/report', {
      params: { path: { id: created.id } },
      parseAs: 'stream',
    });
    expect(streamed.data).toBeInstanceOf(ReadableStream);
    expect(await new Response(streamed.data).text()).toBe(report.data);

    // The imported persons are in the registry, masked.
    const persons = [];
    for await (const p of houfu.paginate('/v1/persons', { params: { query: { village } } })) persons.push(p);
    expect(persons.map((p) => p.name).sort()).toEqual(['王五', '王小五', '赵六'].sort());
    expect(persons.every((p) => MASKED.test(p.national_id_masked))).toBe(true);
  });

  it('the same upload with the same idempotencyKey answers the same import; another file with it → 422', async () => {
    const village = await freshVillage();
    const file = csvOf([importRow('0101', '户主', '周三', village)]);
    const { fetch, sent } = inProcess();
    const houfu = sdk(fetch);
    const key = `sdk-import-${randomUUID()}`;

    const first = await houfu.uploadImport(new TextEncoder().encode(file), { idempotencyKey: key });
    const again = await houfu.uploadImport(new TextEncoder().encode(file), { idempotencyKey: key });
    expect(again.id).toBe(first.id);
    expect(again.job.id).toBe(first.job.id);
    expect(sent.map((s) => [s.idempotencyKey, s.contentType, s.status, s.replayed])).toEqual([
      [key, CSV_MEDIA_TYPE, 202, null],
      [key, CSV_MEDIA_TYPE, 202, 'true'],
    ]);

    const other = await caught(
      houfu.uploadImport(csvOf([importRow('0102', '户主', '吴四', village)]), { idempotencyKey: key }),
    );
    expect(other.status).toBe(422);
    expect(other.code).toBe('idempotency_key_reused');

    // One import, applied once.
    await t.jobs.runUntilIdle();
    const job = await houfu.waitForJob(first.job.id, { intervalMs: 5 });
    expect(job.status).toBe('succeeded');
    const done = unwrap(await houfu.GET('/v1/imports/{id}', { params: { path: { id: first.id } } }));
    expect(done.counts).toEqual({ total: 1, accepted: 1, rejected: 0 });
  });

  it('a stream upload answered 503 is retried with the same key and the whole file', async () => {
    const village = await freshVillage();
    const file = csvOf([
      importRow('0201', '户主', '郑七', village),
      importRow('0201', '配偶', '冯八', village),
    ]);
    const { fetch, sent } = inProcess({
      intercept: async (request, index) => {
        if (index !== 0) return undefined;
        await request.body?.cancel();
        return new Response(JSON.stringify({ status: 503, code: 'service_unavailable', detail: 'busy' }), {
          status: 503,
          headers: { 'content-type': 'application/problem+json', 'retry-after': '0' },
        });
      },
    });
    const houfu = sdk(fetch);
    const bytes = new TextEncoder().encode(file);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        // In two chunks, split inside a character.
        controller.enqueue(bytes.slice(0, 41));
        controller.enqueue(bytes.slice(41));
        controller.close();
      },
    });

    const created = await houfu.uploadImport(stream, { filename: 'stream.csv' });
    expect(sent.map((s) => s.status)).toEqual([503, 202]);
    expect(sent[1]?.idempotencyKey).toBe(sent[0]?.idempotencyKey);
    expect(sent[0]?.idempotencyKey).toMatch(UUID);
    expect(created.size_bytes).toBe(bytes.byteLength);

    await t.jobs.runUntilIdle();
    expect((await houfu.waitForJob(created.job.id)).status).toBe('succeeded');
    const done = unwrap(await houfu.GET('/v1/imports/{id}', { params: { path: { id: created.id } } }));
    expect(done.counts).toEqual({ total: 2, accepted: 2, rejected: 0 });
  });

  it('a failed job is returned, not thrown: a file with a wrong header fails with invalid_header', async () => {
    const houfu = sdk(inProcess().fetch);
    const created = await houfu.uploadImport(
      new Blob(['户编号,姓名,身份证\r\n0001,王五,420581197001010013\r\n'], { type: 'text/csv' }),
    );
    // The report of an import not completed yet: 409.
    const early = await caught(
      houfu.download('/v1/imports/{id}/report', { params: { path: { id: created.id } } }),
    );
    expect(early.status).toBe(409);

    await t.jobs.runUntilIdle();
    const job = await houfu.waitForJob(created.job.id, { intervalMs: 5 });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('invalid_header');
    expect(job.error?.message).toContain('身份证号');
    const failed = unwrap(await houfu.GET('/v1/imports/{id}', { params: { path: { id: created.id } } }));
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'invalid_header' } });
  });

  it('an XLSX File: the format and name come from the file; the template itself imports no rows', async () => {
    const { fetch, sent } = inProcess();
    const houfu = sdk(fetch);
    const template = await houfu.download('/v1/imports/template', {
      params: { query: { format: 'xlsx' } },
      as: 'bytes',
    });
    const created = await houfu.uploadImport(new File([template.data], '名单.xlsx'));
    expect(sent.at(-1)?.contentType).toBe(XLSX_MEDIA_TYPE);
    expect(created).toMatchObject({ format: 'xlsx', filename: '名单.xlsx', media_type: XLSX_MEDIA_TYPE });
    await t.jobs.runUntilIdle();
    const job = await houfu.waitForJob(created.job.id, { intervalMs: 5 });
    // Headers and no rows: a completed import of nothing.
    expect(job).toMatchObject({ status: 'succeeded', result: { rows_total: 0, rows_accepted: 0 } });
    const done = unwrap(await houfu.GET('/v1/imports/{id}', { params: { path: { id: created.id } } }));
    expect(done).toMatchObject({ status: 'completed', counts: { total: 0, accepted: 0, rejected: 0 } });
  });

  it('uploads are for counties: a city caller gets HoufuApiError 403', async () => {
    const houfu = sdk(inProcess().fetch, await t.token(CITY, ['city_reviewer']));
    const error = await caught(houfu.uploadImport(csvOf([])));
    expect(error.status).toBe(403);
    expect(error.code).toBe('forbidden');
  });

  it('waitForJob: JobTimeoutError when nobody runs the job, the abort reason on abort, 404 for an unknown job', async () => {
    const { fetch, sent } = inProcess();
    const houfu = sdk(fetch);
    const village = await freshVillage();
    const created = await houfu.uploadImport(csvOf([importRow('0301', '户主', '褚九', village)]));
    sent.length = 0;

    const timedOut = await houfu.waitForJob(created.job.id, { intervalMs: 5, timeoutMs: 150 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(timedOut).toBeInstanceOf(JobTimeoutError);
    const timeout = timedOut as JobTimeoutError;
    expect(timeout.jobId).toBe(created.job.id);
    expect(timeout.job?.status).toBe('queued');
    expect(timeout.message).toMatch(/did not finish within 150 ms; last status: queued/);
    // Polled more than once (waits of 5, 7.5, 11 ms…), only the job.
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.every((s) => s.method === 'GET' && s.path === `/v1/jobs/${created.job.id}`)).toBe(true);

    const controller = new AbortController();
    const waiting = houfu.waitForJob(created.job.id, { intervalMs: 5, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 20);
    await expect(waiting).rejects.toThrow('user cancelled');

    const unknown = await caught(houfu.waitForJob(randomUUID()));
    expect(unknown.status).toBe(404);

    // Leave nothing queued behind.
    await t.jobs.runUntilIdle();
    expect((await houfu.waitForJob(created.job.id)).status).toBe('succeeded');
  });
});

describe('downloads', () => {
  it('the template: CSV with the Chinese headers (BOM dropped from the text), XLSX bytes', async () => {
    const houfu = sdk(inProcess().fetch);
    const csv = await houfu.download('/v1/imports/template', { params: { query: { format: 'csv' } } });
    expect(csv.contentType).toMatch(/^text\/csv/);
    expect(csv.filename).toBe('移民名单导入模板.csv');
    expect(csv.data).toBe(`${HEADERS.join(',')}\r\n`);
    expect(csv.response.status).toBe(200);

    const xlsx = await houfu.download('/v1/imports/template', { as: 'bytes' }); // xlsx by default
    expect(xlsx.contentType).toBe(XLSX_MEDIA_TYPE);
    expect(xlsx.filename).toBe('移民名单导入模板.xlsx');
    expect(xlsx.data).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(xlsx.data.slice(0, 2))).toBe('PK'); // a ZIP
  });

  it('is typed: only file paths, their params required where the API requires them', () => {
    expectTypeOf<DownloadPath>().toEqualTypeOf<
      | '/v1/imports/template'
      | '/v1/imports/{id}/report'
      | '/v1/registry/notice'
      | '/v1/training-sessions/attendance-template'
    >();
    const houfu = createHoufuClient({ fetch: async () => new Response('') });
    const never = () => {
      // @ts-expect-error /v1/me answers JSON
      void houfu.download('/v1/me');
      // @ts-expect-error the notice needs village and year
      void houfu.download('/v1/registry/notice');
      // @ts-expect-error the report needs its id
      void houfu.download('/v1/imports/{id}/report', { params: {} });
    };
    expect(never).toBeTypeOf('function');
    expectTypeOf(houfu.download('/v1/imports/template'))
      .resolves.toHaveProperty('data')
      .toEqualTypeOf<string>();
    expectTypeOf(houfu.download('/v1/imports/template', { as: 'bytes' }))
      .resolves.toHaveProperty('data')
      .toEqualTypeOf<Uint8Array>();
  });

  it('reads Content-Disposition file names', () => {
    expect(dispositionFilename(`attachment; filename="a.csv"; filename*=UTF-8''%E5%90%8D%E5%8D%95.csv`)).toBe(
      '名单.csv',
    );
    expect(dispositionFilename('attachment; filename="a \\"b\\".csv"')).toBe('a "b".csv');
    expect(dispositionFilename('attachment; filename=plain.csv')).toBe('plain.csv');
    expect(dispositionFilename(null)).toBeUndefined();
  });
});
