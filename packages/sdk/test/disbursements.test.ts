/**
 * The SDK over direct-subsidy payment batches (docs/subsidy.md, docs/bank-files.md), in-process
 * against the app and through the SDK only: a clerk prepares a batch (the client adds the
 * Idempotency-Key the route requires), waitForJob, the batch's exact totals, its lines with paginate,
 * maker-checker approval by another user sending the content hash, exportBankFile (CSV with the full
 * accounts and the batch hash; fixed-width GB18030), uploadBankReturn (201 applied → the batch
 * closes at 100.00 %; the same file again → 200 `replayed: true`), and the typed errors on the way.
 *
 * The county is picked from a city nobody has data in (as apps/api/test/disbursements.test.ts does),
 * so the file works on a PostgreSQL database shared by every test file too.
 */
import { randomUUID } from 'node:crypto';
import { createTestApp, makePersons, makeTownship, type TestApp } from '@houfu/api/testing';
import { rowsOf } from '@houfu/db';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  type BankReturn,
  CSV_MEDIA_TYPE,
  createHoufuClient,
  type Disbursement,
  type Downloaded,
  type FetchLike,
  HoufuApiError,
  type HoufuClient,
  type PaymentLine,
  unwrap,
} from '../src/index.js';

const PERIOD = '2013-H1';
/** The national standard (60,000 fen a year), half of it for a semi-annual period. */
const HALF_YEAR_FEN = 30_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HASH = /^[0-9a-f]{64}$/;
const NAMES = ['张三', '李秀英', '王五', '赵六', '陈小七'];
const N = NAMES.length;

let t: TestApp;
let county: number;
/** Holds both county roles: prepares the batch, so may not approve it (maker-checker). */
let preparerToken: string;
let approverToken: string;
const preparerSub = () => `user:sdk-disb-preparer:${county}`;
const approverSub = () => `user:sdk-disb-approver:${county}`;
/** Full 19-digit accounts of the paid persons, in line order. */
let accounts: string[];

/**
 * A county in a city nobody has data in (persons, localities, batches, payment modes), of a province
 * without stored policy (so 2013-H1 is a period of its semi-annual frequency), away from the
 * provinces other test files write in (11, 36, 42, 53) and from 新疆 (65, another removal rule).
 */
async function freshCounty(): Promise<number> {
  const rows = rowsOf<{ code: number }>(
    await t.admin.orm.execute(`
      WITH used AS (
        SELECT DISTINCT division_code / 100 AS city FROM persons
        UNION SELECT DISTINCT division_code / 100 FROM localities
        UNION SELECT DISTINCT division_code / 100 FROM payment_batches
        UNION SELECT DISTINCT division_code / 100 FROM payment_mode_settings
      )
      SELECT d.code FROM divisions d
      WHERE d.level = 'county' AND d.code / 10000 NOT IN (11, 36, 42, 53, 65) AND (d.code / 100) % 100 <> 90
        AND d.code / 100 NOT IN (SELECT city FROM used)
        AND EXISTS (SELECT 1 FROM divisions c WHERE c.code = d.code / 100 * 100 AND c.level = 'city')
        AND NOT EXISTS (SELECT 1 FROM policy_overrides o WHERE o.division_code = d.code / 10000 * 10000)
      ORDER BY random() LIMIT 1`),
  );
  const code = rows[0]?.code;
  if (code === undefined) throw new Error('no fresh county left');
  return Number(code);
}

beforeAll(async () => {
  t = await createTestApp();
  county = await freshCounty();
  preparerToken = await t.token(county, ['county_operator', 'county_approver'], preparerSub());
  approverToken = await t.token(county, ['county_approver'], approverSub());
  const village = (await makeTownship(t.db, county, 1)).villages[0]!.code;
  accounts = NAMES.map((_, i) => `6228${county}${String(i + 1).padStart(9, '0')}`);
  // Five persons with an account (paid) and one without (held back: no_bank_account).
  await makePersons(t, county, [
    ...NAMES.map((name, i) => ({ village, name, bankAccount: accounts[i] as string })),
    { village, name: '无账户' },
  ]);
});

afterAll(async () => {
  await t?.close();
});

interface Sent {
  method: string;
  path: string;
  search: string;
  idempotencyKey: string | null;
  contentType: string | null;
  status: number;
}

/** The app's in-process fetch, recording every attempt and its answer's status. */
function inProcess() {
  const sent: Sent[] = [];
  const fetch: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const record: Sent = {
      method: request.method,
      path: url.pathname,
      search: url.search,
      idempotencyKey: request.headers.get('idempotency-key'),
      contentType: request.headers.get('content-type'),
      status: 0,
    };
    sent.push(record);
    const response = await t.app.fetch(request);
    record.status = response.status;
    return response;
  };
  return { fetch, sent };
}

function sdk(fetch: FetchLike, token: string): HoufuClient {
  return createHoufuClient({ baseUrl: 'http://houfu.test', fetch, token, retry: { baseDelayMs: 5 } });
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

/** RFC 4180 CSV (quoted cells, "" escapes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

/** The records of a fixed-width file: its bytes split at CRLF (the last record ends with one). */
function fixedRecords(bytes: Uint8Array): Uint8Array[] {
  const records: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i + 1 < bytes.length; i += 1) {
    if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) {
      records.push(bytes.subarray(start, i));
      start = i + 2;
      i += 1;
    }
  }
  expect(start, 'the file ends with CRLF').toBe(bytes.length);
  return records;
}

const yuan = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;

describe('a payment batch through the SDK: prepare, approve, export, reconcile', () => {
  it('prepares, approves as another user, exports CSV and fixed width, applies the return file until closed', async () => {
    const clerkHttp = inProcess();
    const clerk = sdk(clerkHttp.fetch, preparerToken);
    const approverHttp = inProcess();
    const approver = sdk(approverHttp.fetch, approverToken);
    const totalFen = N * HALF_YEAR_FEN;

    // ── Prepare: the route requires an Idempotency-Key; the client adds one.
    const created = unwrap(
      await clerk.POST('/v1/disbursements', { body: { period: PERIOD, note: 'SDK 测试批次' } }),
    );
    expect(clerkHttp.sent[0]).toMatchObject({ method: 'POST', path: '/v1/disbursements', status: 202 });
    expect(clerkHttp.sent[0]?.idempotencyKey).toMatch(UUID);
    expect(created).toMatchObject({
      county_code: county,
      period: PERIOD,
      period_start: '2013-01-01',
      period_end: '2013-06-30',
      kind: 'regular',
      status: 'computing',
      note: 'SDK 测试批次',
      prepared_by: preparerSub(),
      links: { self: `/v1/disbursements/${created.id}` },
    });
    expect(created.job.id).toMatch(UUID);

    await t.jobs.runUntilIdle();
    const job = await clerk.waitForJob(created.job.id as string, { intervalMs: 5 });
    expect(job).toMatchObject({ kind: 'subsidy.batch', status: 'succeeded', error: null });

    // ── The computed batch: exact totals.
    const draft = unwrap(await clerk.GET('/v1/disbursements/{id}', { params: { path: { id: created.id } } }));
    expect(draft).toMatchObject({
      id: created.id,
      status: 'draft',
      lines: N,
      total_fen: totalFen,
      project_fen: 0,
      excluded: 1,
      exclusion_reasons: { no_bank_account: 1 },
      approved_by: null,
      outcomes: { pending: N, paid: 0, failed: 0, paid_fen: 0, failed_fen: 0 },
    });
    expect(draft.batch_no).toMatch(new RegExp(`^${county}-2013-H1-\\d{2}$`));
    expect(draft.content_hash).toMatch(HASH);
    const contentHash = draft.content_hash as string;

    // ── The lines, two a page: paginate follows the cursor; accounts masked.
    clerkHttp.sent.length = 0;
    const lines: PaymentLine[] = [];
    for await (const line of clerk.paginate('/v1/disbursements/{id}/lines', {
      params: { path: { id: created.id }, query: { limit: 2 } },
    })) {
      lines.push(line);
    }
    expect(clerkHttp.sent).toHaveLength(Math.ceil(N / 2));
    expect(lines.map((l) => l.line_no)).toEqual([1, 2, 3, 4, 5]);
    expect(lines.map((l) => l.name).sort()).toEqual([...NAMES].sort());
    for (const l of lines) {
      expect(l).toMatchObject({
        batch_id: created.id,
        batch_no: draft.batch_no,
        period: PERIOD,
        amount_fen: HALF_YEAR_FEN,
        project_fen: 0,
        bank_name: '农村信用社',
        outcome: 'pending',
      });
      expect(l.reference).toBe(`${draft.batch_no}-${String(l.line_no).padStart(7, '0')}`);
    }
    const accountOf = (name: string) => accounts[NAMES.indexOf(name)] as string;
    expect(lines.map((l) => l.bank_account_masked)).toEqual(
      lines.map((l) => `****${accountOf(l.name).slice(-4)}`),
    );
    const listed = JSON.stringify(lines);
    for (const a of accounts) expect(listed).not.toContain(a);

    // ── No bank file before approval: 409.
    const early = await caught(clerk.exportBankFile(created.id, { reason: '审批前试导出' }));
    expect(early).toMatchObject({ status: 409, code: 'conflict' });

    // ── Maker-checker: the preparer holds the approver role too, and still may not approve.
    const own = await caught(
      clerk
        .POST('/v1/disbursements/{id}/approve', {
          params: { path: { id: created.id } },
          body: { content_hash: contentHash },
        })
        .then(unwrap),
    );
    expect(own).toMatchObject({ status: 403, code: 'forbidden' });
    expect(own.detail).toContain('maker-checker');
    // Another hash than the batch's: it changed since it was reviewed → 409.
    const stale = await caught(
      approver
        .POST('/v1/disbursements/{id}/approve', {
          params: { path: { id: created.id } },
          body: { content_hash: '0'.repeat(64) },
        })
        .then(unwrap),
    );
    expect(stale).toMatchObject({ status: 409, code: 'conflict' });

    const approved = unwrap(
      await approver.POST('/v1/disbursements/{id}/approve', {
        params: { path: { id: created.id } },
        body: { content_hash: contentHash },
      }),
    );
    expect(approved).toMatchObject({
      status: 'approved',
      approved_by: approverSub(),
      content_hash: contentHash,
      lines: N,
      total_fen: totalFen,
    });
    expect(approverHttp.sent.at(-1)?.idempotencyKey).toMatch(UUID);

    // ── The CSV bank file: the full accounts, the batch hash in the header, the totals.
    clerkHttp.sent.length = 0;
    const csv = await clerk.exportBankFile(created.id, { reason: '报送农村信用社代发' });
    expect(clerkHttp.sent).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: `/v1/disbursements/${created.id}/bank-file`,
        contentType: 'application/json',
        status: 200,
      }),
    ]);
    expect(csv.contentType).toBe('text/csv; charset=utf-8');
    expect(csv.filename).toBe(`bank-${draft.batch_no}.csv`);
    expect(csv.data).toBeInstanceOf(Uint8Array);
    expect([...csv.data.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // the BOM, kept in the bytes
    const table = parseCsv(new TextDecoder('utf-8', { fatal: true }).decode(csv.data)); // drops the BOM
    expect(table[0]).toEqual([
      '批次号',
      draft.batch_no,
      '期间',
      PERIOD,
      '笔数',
      String(N),
      '金额合计(元)',
      yuan(totalFen),
      '批次校验码',
      contentHash,
    ]);
    expect(table[1]).toEqual(['参考号', '姓名', '银行账号', '开户银行', '金额(元)']);
    expect(table.slice(2, -1)).toEqual(
      lines.map((l) => [l.reference, l.name, accountOf(l.name), '农村信用社', yuan(HALF_YEAR_FEN)]),
    );
    expect(table.at(-1)).toEqual(['合计', '', '', String(N), yuan(totalFen)]);

    const exported = unwrap(
      await clerk.GET('/v1/disbursements/{id}', { params: { path: { id: created.id } } }),
    );
    expect(exported.status).toBe('exported');
    expect(exported.exported_at).not.toBeNull();

    // ── The fixed-width file: GB18030 bytes, every record of a type as wide as the spec says.
    const fixed = await clerk.exportBankFile(created.id, {
      format: 'fixed',
      reason: '报送农村信用社代发（定长）',
    });
    expect(fixed.contentType).toBe('text/plain; charset=gb18030');
    expect(fixed.filename).toBe(`bank-${draft.batch_no}.txt`);
    // Chinese names in GB18030 are not UTF-8.
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(fixed.data)).toThrow();
    const records = fixedRecords(fixed.data);
    expect(records).toHaveLength(N + 2);
    expect(records.map((r) => r.byteLength)).toEqual([139, ...lines.map(() => 198), 93]);
    const gb = new TextDecoder('gb18030', { fatal: true });
    const [head, ...rest] = records.map((r) => gb.decode(r));
    const tail = rest.pop() as string;
    expect(head?.slice(0, 1)).toBe('H');
    expect(head?.slice(1, 25).trimEnd()).toBe(draft.batch_no);
    expect(head?.slice(25, 33).trimEnd()).toBe(PERIOD);
    expect(head?.slice(33, 39)).toBe(String(county));
    expect(head?.slice(39, 49)).toBe(String(N).padStart(10, '0'));
    expect(head?.slice(49, 67)).toBe(String(totalFen).padStart(18, '0'));
    expect(head?.slice(67, 131)).toBe(contentHash);
    expect(tail).toBe(`T${String(N).padStart(10, '0')}${String(totalFen).padStart(18, '0')}${contentHash}`);
    for (const [i, record] of rest.entries()) {
      const line = lines[i] as PaymentLine;
      // Byte offsets of the spec on the raw bytes: the name is GB18030, 2 bytes a character.
      const bytes = records[i + 1] as Uint8Array;
      const field = (from: number, to: number) => gb.decode(bytes.subarray(from - 1, to));
      expect(record.startsWith('D')).toBe(true);
      expect(field(2, 31).trimEnd()).toBe(line.reference);
      expect(field(32, 63).trimEnd()).toBe(accountOf(line.name));
      expect(field(64, 123).trimEnd()).toBe(line.name);
      expect(field(124, 138)).toBe(String(HALF_YEAR_FEN).padStart(15, '0'));
      expect(field(139, 198).trimEnd()).toBe('农村信用社');
    }

    // ── The bank's return file: every line paid → reconciled and closed.
    const returnFile = `${[
      '参考号,金额(元),结果,失败原因',
      ...lines.map((l) => `${l.reference},${yuan(l.amount_fen)},成功,`),
    ].join('\r\n')}\r\n`;
    const filename = `回盘-${draft.batch_no}.csv`;
    clerkHttp.sent.length = 0;
    const applied: BankReturn = await clerk.uploadBankReturn(created.id, returnFile, { filename });
    expect(clerkHttp.sent).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: `/v1/disbursements/${created.id}/returns`,
        search: `?filename=${encodeURIComponent(filename)}`,
        contentType: CSV_MEDIA_TYPE,
        status: 201,
      }),
    ]);
    expect(applied).toMatchObject({
      batch_id: created.id,
      filename,
      rows: N,
      paid: N,
      failed: 0,
      paid_fen: totalFen,
      failed_fen: 0,
      exceptions: 0,
      control: {
        expected_lines: N,
        expected_fen: totalFen,
        file_lines: N,
        file_fen: totalFen,
        balanced: true,
      },
      imported_by: preparerSub(),
      replayed: false,
    });
    expect(applied.sha256).toMatch(HASH);

    const closed = unwrap(
      await clerk.GET('/v1/disbursements/{id}', { params: { path: { id: created.id } } }),
    );
    expect(closed).toMatchObject({
      status: 'closed',
      outcomes: {
        pending: 0,
        paid: N,
        failed: 0,
        paid_fen: totalFen,
        failed_fen: 0,
        unresolved_failed: 0,
        open_exceptions: 0,
        accuracy: '100.00',
      },
    });
    expect(closed.closed_at).not.toBeNull();
    const paid = [];
    for await (const l of clerk.paginate('/v1/disbursements/{id}/lines', {
      params: { path: { id: created.id }, query: { outcome: 'paid' } },
    })) {
      paid.push(l.reference);
    }
    expect(paid).toEqual(lines.map((l) => l.reference));

    // ── The same file again (as bytes, then a stream: the same SHA-256) → 200, replayed, nothing changed.
    clerkHttp.sent.length = 0;
    const again = await clerk.uploadBankReturn(created.id, new TextEncoder().encode(returnFile));
    const bytes = new TextEncoder().encode(returnFile);
    const streamed = await clerk.uploadBankReturn(
      created.id,
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.slice(0, 10)); // split inside a character
          controller.enqueue(bytes.slice(10));
          controller.close();
        },
      }),
    );
    expect(clerkHttp.sent.map((s) => [s.status, s.contentType])).toEqual([
      [200, CSV_MEDIA_TYPE],
      [200, CSV_MEDIA_TYPE],
    ]);
    for (const replay of [again, streamed]) {
      expect(replay).toMatchObject({ id: applied.id, sha256: applied.sha256, paid: N, replayed: true });
    }
    const returns = unwrap(
      await clerk.GET('/v1/disbursements/{id}/returns', { params: { path: { id: created.id } } }),
    );
    expect(returns.data.map((r) => r.id)).toEqual([applied.id]);

    // ── Another file for a closed batch: 409; a malformed one: 422 naming the rows.
    const late = await caught(
      clerk.uploadBankReturn(created.id, `参考号,金额,结果\r\n${lines[0]?.reference},300.00,失败\r\n`),
    );
    expect(late).toMatchObject({ status: 409, code: 'conflict' });
    const malformed = await caught(
      clerk.uploadBankReturn(created.id, new Blob(['参考号,金额,结果\r\nX,abc,成功\r\n'])),
    );
    expect(malformed.status).toBe(422);
    expect(malformed.errors.map((e) => e.field)).toContain('row 2: amount');
  });

  it('typed errors: an unknown batch is 404, a city caller may not prepare (403)', async () => {
    const clerk = sdk(inProcess().fetch, preparerToken);
    const unknown = await caught(clerk.exportBankFile(randomUUID(), { reason: '不存在的批次' }));
    expect(unknown).toMatchObject({ status: 404, code: 'not_found' });
    const missing = await caught(clerk.uploadBankReturn(randomUUID(), '参考号,金额,结果\r\n'));
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });

    const city = sdk(inProcess().fetch, await t.token(county - (county % 100), ['city_reviewer']));
    const refused = await caught(city.POST('/v1/disbursements', { body: { period: PERIOD } }).then(unwrap));
    expect(refused).toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('is typed: exportBankFile answers bytes, uploadBankReturn a BankReturn; reason required, the idempotency key not', () => {
    const houfu = createHoufuClient({ fetch: async () => new Response('') });
    expectTypeOf(houfu.exportBankFile('id', { reason: '报送' })).resolves.toEqualTypeOf<
      Downloaded<Uint8Array>
    >();
    expectTypeOf(houfu.uploadBankReturn('id', 'csv')).resolves.toEqualTypeOf<BankReturn>();
    // The Idempotency-Key the route requires is optional in the types: the client adds one.
    expectTypeOf(houfu.POST('/v1/disbursements', { body: { period: PERIOD } }))
      .resolves.toHaveProperty('data')
      .toEqualTypeOf<Disbursement | undefined>();
    const never = () => {
      // A key of yours is still typed (and sent as given).
      void houfu.POST('/v1/disbursements', {
        params: { header: { 'idempotency-key': 'batch-2013-H1' } },
        body: { period: PERIOD },
      });
      // @ts-expect-error the body is still checked: the period is required
      void houfu.POST('/v1/disbursements', { body: { note: '无期间' } });
      // @ts-expect-error the reason is required (every download is audited with it)
      void houfu.exportBankFile('id', { format: 'csv' });
      // @ts-expect-error csv or fixed only
      void houfu.exportBankFile('id', { format: 'xlsx', reason: '报送' });
      // @ts-expect-error a file, not an object
      void houfu.uploadBankReturn('id', { rows: [] });
    };
    expect(never).toBeTypeOf('function');
  });
});
