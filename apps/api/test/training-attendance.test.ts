/**
 * POST /v1/training-sessions/{id}/attendance 参训人员名单导入 (docs/training.md): CSV and XLSX lists matched
 * against the county's registry by ID hash, persons linked once (already linked ones reported), every
 * other row reported with its reason, the headcount as the ceiling (422, nothing linked), one audit
 * record with counts, masked IDs only — never a full ID number in any response.
 *
 * Works on a shared PostgreSQL too: the counties come from two fresh cities, the data from factories.
 */
import { randomUUID } from 'node:crypto';
import { rowsOf } from '@houfu/db';
import { sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  freshCities,
  makeNationalId,
  makePerson,
  makeTownship,
  ok,
  personalNumbersIn,
  problem,
  type TestApp,
  tokenCache,
} from './helpers.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const YEAR = 2026;

interface Row {
  row: number;
  name: string | null;
  national_id_masked: string | null;
  outcome: string;
  reason: string | null;
  national_id_error: string | null;
  message: string | null;
  person_id: string | null;
}
interface AttendanceImport {
  session_id: string;
  format: string;
  counts: { rows: number; linked: number; already_linked: number; not_registered: number; invalid: number };
  trainees: number;
  persons_linked: number;
  rows: Row[];
}

let t: TestApp;
let COUNTY: number;
let NEIGHBOUR: number;
let village: number;
let planId: string;
const token = tokenCache(() => t);
const clerk = (county: number) => token(county, ['county_operator'], `user:attend:clerk:${county}`);

beforeAll(async () => {
  t = await createTestApp();
  const { counties } = await freshCities(t);
  COUNTY = counties[0][0] as number;
  NEIGHBOUR = counties[0][1] as number;
  village = (await makeTownship(t.db, COUNTY, 1)).villages[0]?.code as number;
  // An approved plan (under 50万: the city approves).
  const plan = await ok<{ id: string }>(
    await t.call('POST', '/v1/training-plans', {
      token: await clerk(COUNTY),
      body: {
        year: YEAR,
        name: '名单导入测试计划',
        lines: [
          {
            kind: 'practical_skills',
            sessions: 10,
            trainees: 100,
            trainee_times: 200,
            courses: ['柑桔栽培'],
            budget_fen: 5_000_000,
          },
        ],
        funding_lines: [{ source: 'post_support', amount_fen: 5_000_000 }],
      },
    }),
    201,
  );
  planId = plan.id;
  await ok(await t.call('POST', `/v1/training-plans/${plan.id}/submit`, { token: await clerk(COUNTY) }));
  const city = COUNTY - (COUNTY % 100);
  const reviewer = await token(city, ['city_reviewer'], `user:attend:city:${city}`);
  await ok(
    await t.call('POST', `/v1/training-plans/${plan.id}/review`, {
      token: reviewer,
      body: { action: 'approve' },
    }),
  );
});
afterAll(() => t.close());

// ── Helpers ────────────────────────────────────────────────────────────────────────────────────

async function makeSession(trainees: number): Promise<{ id: string }> {
  return ok<{ id: string }>(
    await t.call('POST', '/v1/training-sessions', {
      token: await clerk(COUNTY),
      body: {
        plan_id: planId,
        kind: 'practical_skills',
        held_on: `${YEAR}-05-10`,
        place: '红花套镇农技站',
        course: '柑桔栽培',
        trainees,
        cost_fen: 1_000 * trainees,
      },
      headers: { 'idempotency-key': randomUUID() },
    }),
    201,
  );
}

const person = (name: string, county = COUNTY) =>
  makePerson(t, county, county === COUNTY ? { village, name } : { name });

const csv = (rows: (string | null)[][], header = ['姓名', '身份证号', '村', '备注']) =>
  `\uFEFF${[header, ...rows].map((r) => r.map((c) => c ?? '').join(',')).join('\r\n')}\r\n`;

async function xlsx(rows: (string | number | null)[][], header = ['姓名', '身份证号', '村', '备注']) {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('参训人员');
  sheet.addRow(header);
  for (const r of rows) sheet.addRow(r);
  return new Uint8Array(await wb.xlsx.writeBuffer());
}

/** Every response text of this file: none may hold a full ID number. */
const seen: string[] = [];

/** Posts a list; the response text is kept for the full-ID check. */
async function upload(
  sessionId: string,
  body: string | Uint8Array,
  options: { as?: string; type?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; res: Response }> {
  const res = await t.app.request(`/v1/training-sessions/${sessionId}/attendance`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${options.as ?? (await clerk(COUNTY))}`,
      'content-type': options.type ?? (typeof body === 'string' ? 'text/csv' : XLSX),
      ...options.headers,
    },
    body,
  });
  const text = await res.clone().text();
  seen.push(text);
  return { status: res.status, text, res };
}

const result = (u: { status: number; text: string }) => {
  expect(u.status, u.text).toBe(200);
  return JSON.parse(u.text) as AttendanceImport;
};

const linkedPersons = async (sessionId: string) =>
  (
    await ok<{ person_ids: string[] }>(
      await t.call('GET', `/v1/training-sessions/${sessionId}`, { token: await clerk(COUNTY) }),
    )
  ).person_ids;

async function audits(sessionId: string) {
  return rowsOf<{ action: string; changes: string }>(
    await t.admin.orm.execute(sql`SELECT action, changes::text AS changes FROM audit_events
      WHERE division_code = ${COUNTY} AND entity_id = ${sessionId} ORDER BY seq`),
  );
}

const masked = (id: string) => `${id.slice(0, 6)}********${id.slice(14)}`;

// ── Happy paths ────────────────────────────────────────────────────────────────────────────────

describe('attendance lists', () => {
  it('CSV: registered persons are linked, IDs answered masked, one audit record with counts', async () => {
    const session = await makeSession(10);
    const a = await person('王小红');
    const b = await person('阿依·努尔');
    const res = await upload(
      session.id,
      csv([
        ['王小红', a.nationalId, '白水港村', '第一天'],
        // A middle-dot variant and a lower-case x would still match; here: spaces around the name.
        [' 阿依•努尔 ', b.nationalId, null, null],
      ]),
    );
    const body = result(res);
    expect(body.counts).toEqual({ rows: 2, linked: 2, already_linked: 0, not_registered: 0, invalid: 0 });
    expect(body).toMatchObject({ session_id: session.id, format: 'csv', trainees: 10, persons_linked: 2 });
    expect(body.rows).toEqual([
      {
        row: 2,
        name: '王小红',
        national_id_masked: masked(a.nationalId),
        outcome: 'linked',
        reason: null,
        national_id_error: null,
        message: null,
        person_id: a.id,
      },
      expect.objectContaining({ row: 3, outcome: 'linked', person_id: b.id }),
    ]);
    expect(res.text).not.toContain(a.nationalId);
    expect(res.text).not.toContain(b.nationalId);
    expect((await linkedPersons(session.id)).sort()).toEqual([a.id, b.id].sort());

    const trail = await audits(session.id);
    expect(trail.map((r) => r.action)).toEqual([
      'training_session.create',
      'training_session.attendance_import',
    ]);
    const changes = JSON.parse(trail[1]?.changes ?? '{}') as Record<string, { new: unknown }>;
    expect(changes.rows?.new).toBe(2);
    expect(changes.linked?.new).toBe(2);
    expect(trail[1]?.changes).not.toContain(a.nationalId.slice(6, 14));
    expect(personalNumbersIn(trail[1]?.changes ?? '')).toEqual([]);
  });

  it('XLSX (ID cells as text, extra columns ignored): linked; the same list again is already linked', async () => {
    const session = await makeSession(5);
    const a = await person('李四');
    const b = await person('赵六');
    const file = await xlsx(
      [
        ['李四', a.nationalId, '白水港村', null, '13800000000'],
        [null, null, null, null, null],
        ['赵六', b.nationalId, null, '补训', null],
      ],
      ['姓名', '身份证号', '村', '备注', '电话'],
    );
    const first = result(await upload(session.id, file));
    expect(first.format).toBe('xlsx');
    expect(first.counts).toEqual({ rows: 2, linked: 2, already_linked: 0, not_registered: 0, invalid: 0 });
    // The blank row is skipped; the row numbers are the spreadsheet's.
    expect(first.rows.map((r) => r.row)).toEqual([2, 4]);

    const again = result(await upload(session.id, file));
    expect(again.counts).toEqual({ rows: 2, linked: 0, already_linked: 2, not_registered: 0, invalid: 0 });
    expect(again.rows.map((r) => [r.outcome, r.reason, r.person_id])).toEqual([
      ['already_linked', 'already_linked', a.id],
      ['already_linked', 'already_linked', b.id],
    ]);
    expect(again.persons_linked).toBe(2);
    expect(await linkedPersons(session.id)).toHaveLength(2);
    expect((await audits(session.id)).map((r) => r.action)).toEqual([
      'training_session.create',
      'training_session.attendance_import',
      'training_session.attendance_import',
    ]);
  });

  it('every other row is reported with its reason and not linked', async () => {
    const session = await makeSession(20);
    const linkedBefore = await person('钱七');
    result(await upload(session.id, csv([['钱七', linkedBefore.nationalId, null, null]])));
    const fresh = await person('孙八');
    const renamed = await person('周九');
    const elsewhere = await person('吴十', NEIGHBOUR);
    const unregistered = makeNationalId(COUNTY);
    const good = makeNationalId(COUNTY);
    const badChecksum = `${good.slice(0, 17)}${good.at(-1) === '0' ? '1' : '0'}`;
    const body = result(
      await upload(
        session.id,
        csv([
          ['钱七', linkedBefore.nationalId.toLowerCase(), null, null],
          ['孙八', fresh.nationalId, null, null],
          ['孙八', fresh.nationalId, null, '重复'],
          ['周久', renamed.nationalId, null, null],
          ['吴十', elsewhere.nationalId, null, null],
          ['郑一', unregistered, null, null],
          ['冯二', badChecksum, null, null],
          ['陈三', '12345', null, null],
          [null, makeNationalId(COUNTY), null, null],
          ['褚四', null, null, null],
          [null, null, null, null],
        ]),
      ),
    );
    expect(body.counts).toEqual({ rows: 10, linked: 1, already_linked: 1, not_registered: 2, invalid: 6 });
    expect(body.rows.map((r) => [r.row, r.outcome, r.reason])).toEqual([
      [2, 'already_linked', 'already_linked'],
      [3, 'linked', null],
      [4, 'invalid', 'duplicate_in_file'],
      [5, 'invalid', 'name_mismatch'],
      // A person of another county is not seen: the same answer as an ID nobody registered.
      [6, 'not_registered', 'not_registered'],
      [7, 'not_registered', 'not_registered'],
      [8, 'invalid', 'national_id_invalid'],
      [9, 'invalid', 'national_id_invalid'],
      [10, 'invalid', 'name_missing'],
      [11, 'invalid', 'national_id_missing'],
    ]);
    expect(body.rows[6]).toMatchObject({
      national_id_error: 'checksum',
      national_id_masked: masked(badChecksum),
      message: '身份证号无效',
    });
    expect(body.rows[7]).toMatchObject({ national_id_error: 'length', national_id_masked: '*2345' });
    expect(body.rows[3]?.person_id).toBeNull();
    expect(body.rows[4]?.person_id).toBeNull();
    expect((await linkedPersons(session.id)).sort()).toEqual([linkedBefore.id, fresh.id].sort());
    expect(body.persons_linked).toBe(2);
  });

  it('GB18030 CSV (as Excel on Chinese Windows saves it) is read', async () => {
    const session = await makeSession(3);
    const a = await person('蒋五');
    const { default: iconv } = await import('iconv-lite');
    const bytes = iconv.encode(csv([['蒋五', a.nationalId, null, null]]).slice(1), 'gb18030');
    const body = result(await upload(session.id, new Uint8Array(bytes), { type: 'text/csv' }));
    expect(body.counts.linked).toBe(1);
    expect(body.rows[0]?.name).toBe('蒋五');
  });

  it('the template: CSV with the Chinese headers, XLSX that reads back as an attendance list', async () => {
    const as = await clerk(COUNTY);
    const res = await t.call('GET', '/v1/training-sessions/attendance-template?format=csv', { token: as });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('attachment');
    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer())).toBe(
      '\uFEFF姓名,身份证号,村,备注\r\n',
    );

    const file = await t.call('GET', '/v1/training-sessions/attendance-template', { token: as });
    expect(file.headers.get('content-type')).toBe(XLSX);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await file.arrayBuffer());
    const sheet = wb.worksheets[0] as ExcelJS.Worksheet;
    expect((sheet.getRow(1).values as unknown[]).slice(1)).toEqual(['姓名', '身份证号', '村', '备注']);
    const a = await person('韩六');
    sheet.addRow(['韩六', a.nationalId]);
    const session = await makeSession(2);
    const body = result(await upload(session.id, new Uint8Array(await wb.xlsx.writeBuffer())));
    expect(body.counts.linked).toBe(1);
  });

  it('an Idempotency-Key replays the first answer; another file with it → 422', async () => {
    const session = await makeSession(3);
    const a = await person('杨七');
    const key = randomUUID();
    const file = csv([['杨七', a.nationalId, null, null]]);
    const first = await upload(session.id, file, { headers: { 'idempotency-key': key } });
    expect(result(first).counts.linked).toBe(1);
    const replay = await upload(session.id, file, { headers: { 'idempotency-key': key } });
    expect(replay.status).toBe(200);
    expect(replay.res.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toBe(first.text);
    const other = await upload(session.id, `${file}\r\n`, { headers: { 'idempotency-key': key } });
    expect(other.status).toBe(422);
    expect((await problem(other.res)).code).toBe('idempotency_key_reused');
    expect((await audits(session.id)).filter((r) => r.action.endsWith('attendance_import'))).toHaveLength(1);
  });
});

// ── Refusals ───────────────────────────────────────────────────────────────────────────────────

describe('refused lists link nothing and audit nothing', () => {
  it('more persons than the headcount → 422 headcount_exceeded', async () => {
    const session = await makeSession(2);
    const a = await person('朱一');
    const b = await person('秦二');
    const c = await person('尤三');
    expect(result(await upload(session.id, csv([['朱一', a.nationalId, null, null]]))).counts.linked).toBe(1);
    const res = await upload(
      session.id,
      csv([
        ['秦二', b.nationalId, null, null],
        ['尤三', c.nationalId, null, null],
      ]),
    );
    expect(res.status).toBe(422);
    const body = await problem(res.res);
    expect(body.code).toBe('unprocessable');
    expect(
      ((body.errors as { field: string; code?: string }[] | undefined) ?? []).map((e) => e.code),
    ).toEqual(['headcount_exceeded']);
    expect(await linkedPersons(session.id)).toEqual([a.id]);
    // Already linked persons and rows not linked do not count against the headcount.
    const fits = result(
      await upload(
        session.id,
        csv([
          ['朱一', a.nationalId, null, null],
          ['秦二', b.nationalId, null, null],
          ['某人', makeNationalId(COUNTY), null, null],
        ]),
      ),
    );
    expect(fits.counts).toMatchObject({ linked: 1, already_linked: 1, not_registered: 1 });
    expect(fits.persons_linked).toBe(2);
    expect((await audits(session.id)).filter((r) => r.action.endsWith('attendance_import'))).toHaveLength(2);
  });

  it('concurrent imports of one session never link more persons than the headcount', async () => {
    const session = await makeSession(3);
    const people = await Promise.all(['甲', '乙', '丙', '丁', '戊', '己'].map((n) => person(`并发${n}`)));
    const lists = [people.slice(0, 2), people.slice(2, 4), people.slice(4, 6)].map((pair) =>
      csv(pair.map((p) => [p.name, p.nationalId, null, null])),
    );
    const answers = await Promise.all(lists.map((list) => upload(session.id, list)));
    // Each list would fit alone (2 ≤ 3); serialised, only the first one does.
    expect(answers.map((a) => a.status).sort()).toEqual([200, 422, 422]);
    expect(await linkedPersons(session.id)).toHaveLength(2);
  });

  it('a role without training:write → 403; another county’s session or none → 404', async () => {
    const session = await makeSession(3);
    const a = await person('许四');
    const file = csv([['许四', a.nationalId, null, null]]);
    const approver = await token(COUNTY, ['county_approver'], `user:attend:approver:${COUNTY}`);
    const denied = await upload(session.id, file, { as: approver });
    expect(denied.status).toBe(403);
    const city = COUNTY - (COUNTY % 100);
    const reviewer = await token(city, ['city_reviewer'], `user:attend:city:${city}`);
    expect((await upload(session.id, file, { as: reviewer })).status).toBe(403);
    const foreign = await upload(session.id, file, { as: await clerk(NEIGHBOUR) });
    expect(foreign.status).toBe(404);
    expect((await problem(foreign.res)).code).toBe('not_found');
    expect((await upload(randomUUID(), file)).status).toBe(404);
    expect(await linkedPersons(session.id)).toEqual([]);
    expect((await audits(session.id)).map((r) => r.action)).toEqual(['training_session.create']);
  });

  it('above 2 MiB → 413, with or without Content-Length', async () => {
    const session = await makeSession(3);
    const big = `姓名,身份证号\r\n${'张三,1\r\n'.repeat(300_000)}`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(2 * 1024 * 1024);
    const declared = await upload(session.id, big, {
      headers: { 'content-length': String(Buffer.byteLength(big)) },
    });
    expect(declared.status).toBe(413);
    expect((await problem(declared.res)).code).toBe('payload_too_large');
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 256 * 1024) controller.enqueue(bytes.slice(i, i + 256 * 1024));
        controller.close();
      },
    });
    const res = await t.app.request(
      new Request(`http://localhost/v1/training-sessions/${session.id}/attendance`, {
        method: 'POST',
        body: stream,
        duplex: 'half',
        headers: { authorization: `Bearer ${await clerk(COUNTY)}`, 'content-type': 'text/csv' },
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect((await audits(session.id)).map((r) => r.action)).toEqual(['training_session.create']);
  });

  it('malformed files: unreadable → 400, wrong headers or no rows → 422, another type → 415', async () => {
    const session = await makeSession(3);
    const a = await person('何五');
    const expectProblem = async (u: { status: number; res: Response }, status: number, code: string) => {
      expect(u.status).toBe(status);
      const body = await problem(u.res);
      expect([
        body.code,
        ...((body.errors ?? []) as { field: string; code?: string }[]).map((e) => e.code),
      ]).toContain(code);
    };
    await expectProblem(
      await upload(session.id, new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5])),
      400,
      'file_unreadable',
    );
    await expectProblem(
      await upload(session.id, `姓名,身份证号\r\n"何五,${a.nationalId}\r\n`),
      400,
      'file_unreadable',
    );
    await expectProblem(
      await upload(session.id, new Uint8Array([0xe5, 0xa7, 0x93, 0xff, 0xfe, 0x2c]), {
        type: 'text/csv; charset=utf-8',
      }),
      400,
      'file_encoding',
    );
    // The first row is data, not a header: its cells are never quoted back.
    const headless = await upload(session.id, `何五,${a.nationalId}\r\n`);
    expect(headless.text).not.toContain('何五');
    await expectProblem(headless, 422, 'invalid_header');
    await expectProblem(
      await upload(session.id, csv([], ['姓名', '姓名', '身份证号'])),
      422,
      'invalid_header',
    );
    await expectProblem(await upload(session.id, csv([])), 422, 'no_rows');
    await expectProblem(await upload(session.id, '\r\n\r\n'), 422, 'empty_file');
    await expectProblem(await upload(session.id, ''), 400, 'validation_failed');
    await expectProblem(
      await upload(session.id, JSON.stringify({ rows: [] }), { type: 'application/json' }),
      415,
      'unsupported_media_type',
    );
    expect(await linkedPersons(session.id)).toEqual([]);
    expect((await audits(session.id)).map((r) => r.action)).toEqual(['training_session.create']);
  });
});

describe('personal numbers', () => {
  it('no response of this file holds a full ID number', () => {
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.flatMap((text) => personalNumbersIn(text))).toEqual([]);
  });
});
