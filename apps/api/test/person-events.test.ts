/**
 * /v1/persons/{id}/events and /v1/persons/{id}/status: status changes with evidence (death, move out,
 * removal, re-registration, corrections that void an event), the rules a new event must satisfy, the
 * removal timing parameter by province (national `annual_review`, 新疆 `next_january`) and the
 * support window, and registration by transfer. Registration and lists: persons.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { detectConflicts, schema, withDivision } from '@houfu/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  fields,
  json,
  makeNationalId,
  makePerson,
  makeTownship,
  problem,
  type TestApp,
} from './helpers.js';

interface Person {
  id: string;
  status: string;
  version: number;
}
interface PersonEvent {
  id: string;
  person_id: string;
  kind: string;
  effective_date: string;
  takes_effect: string | null;
  voided: boolean;
  reason: string | null;
  destination_code: number | null;
  destination_note: string | null;
  origin_code: number | null;
  corrects_id: string | null;
  evidence_ref: string;
  note: string | null;
  recorded_by: string;
}
interface Status {
  person_id: string;
  on: string;
  status: string;
  supported: boolean;
  support_window: { from: string; until: string };
  removal_rule: string;
}

/** A full national ID number anywhere in a text. */
/** An 18-character ID standing alone (not a run of digits inside a hex hash or another token). */
const FULL_ID = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/;
const XINJIANG = 650102; // 乌鲁木齐市天山区

let t: TestApp;
const tok: Record<string, string> = {};
const villages: Record<number, number> = {};

beforeAll(async () => {
  t = await createTestApp({ config: { HOUFU_RATE_LIMIT_PER_MINUTE: 100_000 } });
  tok.op581 = await t.token(420581, ['county_operator']);
  tok.op582 = await t.token(420582, ['county_operator']);
  tok.approver581 = await t.token(420581, ['county_approver']);
  tok.city = await t.token(420500, ['city_reviewer']);
  tok.xj = await t.token(XINJIANG, ['county_operator']);
  for (const county of [420581, XINJIANG]) {
    villages[county] = (await makeTownship(t.db, county, 1)).villages[0]!.code;
  }
});
afterAll(() => t.close());

const today = () => new Date().toISOString().slice(0, 10);
const dayAfter = (date: string, days = 1) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** A fresh valid ID of `county` with a random birth date (IDs of one county are unique). */
function freshId(county: number): string {
  const birth = new Date(Date.UTC(1940, 0, 1) + Math.floor(Math.random() * 50 * 365) * 86_400_000);
  return makeNationalId(county, birth.toISOString().slice(0, 10), Math.floor(Math.random() * 999) + 1);
}

/** A registered person (factory: written as the county, like the API does). */
async function newPerson(
  opts: { county?: number; registeredOn?: string; relocationDate?: string } = {},
): Promise<string> {
  const county = opts.county ?? 420581;
  const made = await makePerson(t, county, {
    village: villages[county]!,
    nationalId: freshId(county),
    relocationDate: opts.relocationDate ?? '2003-05-01',
    registeredOn: opts.registeredOn ?? '2010-01-01',
  });
  return made.id;
}

const post = (id: string, body: Record<string, unknown>, token = tok.op581 as string) =>
  t.call('POST', `/v1/persons/${id}/events`, { token, body });

async function record(
  id: string,
  body: Record<string, unknown>,
  token = tok.op581 as string,
): Promise<{ event: PersonEvent; person: Person }> {
  const res = await post(id, { evidence_ref: '证明材料', ...body }, token);
  const text = await res.text();
  expect(res.status, text).toBe(201);
  expect(text).not.toMatch(FULL_ID);
  return JSON.parse(text) as { event: PersonEvent; person: Person };
}

/** A refused event: the status, the fields named and (422) the rule's code. */
async function refused(
  id: string,
  body: Record<string, unknown>,
  status: 400 | 422,
  field: string,
  code?: string,
  token = tok.op581 as string,
) {
  const res = await post(id, { evidence_ref: '证明材料', ...body }, token);
  expect(res.status, JSON.stringify(body)).toBe(status);
  const p = await problem(res);
  expect(fields(p), JSON.stringify(body)).toContain(field);
  if (code) expect((p.errors as unknown as { code: string }[]).map((e) => e.code)).toContain(code);
}

async function history(id: string, token = tok.op581 as string): Promise<PersonEvent[]> {
  const res = await t.call('GET', `/v1/persons/${id}/events`, { token });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return (JSON.parse(text) as { data: PersonEvent[] }).data;
}

async function statusOn(id: string, on?: string, token = tok.op581 as string): Promise<Status> {
  const res = await t.call('GET', `/v1/persons/${id}/status${on ? `?on=${on}` : ''}`, { token });
  const text = await res.text();
  expect(res.status, `${on}: ${text}`).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return JSON.parse(text) as Status;
}

async function statuses(id: string, dates: string[], token?: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const on of dates) out[on] = (await statusOn(id, on, token)).status;
  return out;
}

async function getPerson(id: string, token = tok.op581 as string): Promise<Person> {
  const res = await t.call('GET', `/v1/persons/${id}`, { token });
  expect(res.status).toBe(200);
  return json<Person>(res);
}

/** POST /v1/persons in a new household of 420581 (registration through the API). */
async function registerByApi(over: Record<string, unknown>): Promise<Response> {
  const household = await t.call('POST', '/v1/households', {
    token: tok.op581,
    body: { household_no: `H-${randomUUID().slice(0, 8)}`, village_code: villages[420581] },
  });
  expect(household.status).toBe(201);
  return t.call('POST', '/v1/persons', {
    token: tok.op581,
    body: {
      household_id: (await json<{ id: string }>(household)).id,
      relationship: 'head',
      name: '迁入人',
      national_id: freshId(420581),
      reservoir: '三峡水库',
      relocation_date: '2003-05-01',
      relocatee_kind: 'original',
      ...over,
    },
  });
}

describe('registration by transfer', () => {
  it('moved_in with origin_code shows a moved_in event in the history, and in the audit', async () => {
    const res = await registerByApi({
      registered_on: '2012-03-01',
      moved_in: { origin_code: 500101, evidence_ref: '迁移证 2012-0031', note: '由重庆迁入' },
    });
    expect(res.status).toBe(201);
    const person = await json<Person>(res);
    expect(person.status).toBe('registered');
    const events = await history(person.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      person_id: person.id,
      kind: 'moved_in',
      origin_code: 500101,
      effective_date: '2012-03-01',
      takes_effect: '2012-03-01',
      voided: false,
      evidence_ref: '迁移证 2012-0031',
      note: '由重庆迁入',
      recorded_by: 'user:county_operator:420581',
    });
    expect(await statuses(person.id, ['2012-02-29', '2012-03-01'])).toEqual({
      '2012-02-29': 'not_registered',
      '2012-03-01': 'registered',
    });
    const audit = await t.call('GET', `/v1/audit-events?entity_id=${person.id}&action=person.create`, {
      token: tok.approver581,
    });
    const [created] = ((await audit.json()) as { data: { changes: Record<string, unknown> }[] }).data;
    expect(created?.changes.moved_in_from).toEqual({ old: null, new: 500101 });

    for (const [movedIn, field] of [
      [{ origin_code: 12, evidence_ref: '迁移证' }, 'moved_in.origin_code'],
      [{ origin_code: 0, evidence_ref: '迁移证' }, 'moved_in.origin_code'],
      [{ origin_code: 500101 }, 'moved_in.evidence_ref'],
      [{ origin_code: 500101, evidence_ref: '迁移证', kind: 'moved_in' }, 'moved_in.kind'],
    ] as const) {
      const bad = await registerByApi({ moved_in: movedIn });
      expect(bad.status, JSON.stringify(movedIn)).toBe(400);
      expect(fields(await problem(bad))).toContain(field);
    }
  });

  // BUG (reported): an origin_code that is well-formed but not in the division dictionary violates the
  // person_events foreign key (23503), which errors.ts does not classify: 500 instead of 422.
  it('moved_in with a well-formed origin_code missing from the dictionary → 422, not 500', async () => {
    const res = await registerByApi({ moved_in: { origin_code: 419999, evidence_ref: '迁移证 X' } });
    expect(res.status).toBe(422);
  });
});

describe('death and corrections', () => {
  it('death → deceased; a second death → 422 already_deceased; a correction voids it: registered again, listed voided', async () => {
    const id = await newPerson();
    const death = await record(id, {
      kind: 'death',
      effective_date: '2015-03-15',
      evidence_ref: '死亡证明 2015-0042',
      note: '病故',
    });
    expect(death.event).toMatchObject({
      person_id: id,
      kind: 'death',
      effective_date: '2015-03-15',
      takes_effect: '2015-03-15',
      voided: false,
      reason: null,
      destination_code: null,
      corrects_id: null,
      evidence_ref: '死亡证明 2015-0042',
      note: '病故',
      recorded_by: 'user:county_operator:420581',
    });
    expect(death.person).toMatchObject({ id, status: 'deceased', version: 2 });
    expect(await getPerson(id)).toMatchObject({ status: 'deceased', version: 2 });

    expect(await statusOn(id, '2015-03-14')).toMatchObject({
      person_id: id,
      on: '2015-03-14',
      status: 'registered',
      supported: true,
      removal_rule: 'annual_review',
    });
    expect(await statusOn(id, '2015-03-15')).toMatchObject({ status: 'deceased', supported: false });

    for (const body of [
      { kind: 'death', effective_date: '2016-01-01' },
      { kind: 'death', effective_date: '2014-01-01' },
      { kind: 'moved_out', effective_date: '2016-01-01', destination_code: 500101 },
      { kind: 'removed', effective_date: '2016-01-01', reason: 'other' },
      { kind: 're_registered', effective_date: '2016-01-01' },
    ]) {
      await refused(id, body, 422, 'kind', 'already_deceased');
    }

    const correction = await record(id, {
      kind: 'correction',
      effective_date: '2015-04-01',
      corrects_id: death.event.id,
      evidence_ref: '公安户籍更正说明',
    });
    expect(correction.event).toMatchObject({
      kind: 'correction',
      corrects_id: death.event.id,
      takes_effect: null,
    });
    expect(correction.person).toMatchObject({ status: 'registered', version: 3 });

    const events = await history(id);
    expect(events.map((e) => [e.kind, e.voided, e.takes_effect])).toEqual([
      ['death', true, null],
      ['correction', false, null],
    ]);
    expect(await statusOn(id, '2015-03-15')).toMatchObject({ status: 'registered', supported: true });

    await refused(
      id,
      { kind: 'correction', effective_date: '2015-05-01', corrects_id: death.event.id },
      422,
      'corrects_id',
      'already_corrected',
    );
    await refused(
      id,
      { kind: 'correction', effective_date: '2015-05-01', corrects_id: correction.event.id },
      422,
      'corrects_id',
      'cannot_correct_correction',
    );
    await refused(
      id,
      { kind: 'correction', effective_date: '2015-05-01', corrects_id: randomUUID() },
      422,
      'corrects_id',
      'unknown_event',
    );

    // With the first death voided, the real one can be recorded.
    const real = await record(id, { kind: 'death', effective_date: '2016-02-02' });
    expect(real.person.status).toBe('deceased');

    const audit = await t.call('GET', `/v1/audit-events?entity_id=${id}&limit=50`, {
      token: tok.approver581,
    });
    const actions = ((await audit.json()) as { data: { action: string }[] }).data.map((e) => e.action);
    expect(actions.sort()).toEqual(
      [
        'person.event.correction',
        'person.event.death',
        'person.event.death',
        'person.status',
        'person.status',
        'person.status',
      ].sort(),
    );
  });
});

describe('moves, removals and their details', () => {
  it('each detail belongs to its kind: 400 naming the field when missing or sent with another kind', async () => {
    const id = await newPerson();
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'moved_out' }, 'destination_code'],
      [{ kind: 'death', destination_code: 500101 }, 'destination_code'],
      [{ kind: 'death', destination_note: '重庆' }, 'destination_note'],
      [{ kind: 'moved_out', destination_code: 123 }, 'destination_code'],
      [{ kind: 'moved_out', destination_code: 0 }, 'destination_code'],
      [{ kind: 'removed' }, 'reason'],
      [{ kind: 'removed', reason: 'retired' }, 'reason'],
      [{ kind: 'death', reason: 'other' }, 'reason'],
      [{ kind: 'correction' }, 'corrects_id'],
      [{ kind: 'death', corrects_id: randomUUID() }, 'corrects_id'],
      [{ kind: 'moved_in', origin_code: 500101 }, 'kind'],
      [{ kind: 'death', effective_date: '2013-02-30' }, 'effective_date'],
      [{ kind: 'death', effective_date: '2013-2-3' }, 'effective_date'],
      [{ kind: 'death', evidence_ref: '' }, 'evidence_ref'],
      [{ kind: 'death', status: 'deceased' }, 'status'],
      [{ kind: 'death', takes_effect: '2014-01-01' }, 'takes_effect'],
    ];
    for (const [body, field] of cases) {
      await refused(id, { effective_date: '2014-01-01', ...body }, 400, field);
    }
    const missingRef = await t.call('POST', `/v1/persons/${id}/events`, {
      token: tok.op581,
      body: { kind: 'death', effective_date: '2014-01-01' },
    });
    expect(missingRef.status).toBe(400);
    expect(fields(await problem(missingRef))).toContain('evidence_ref');
    expect(await history(id)).toEqual([]);
    expect((await getPerson(id)).status).toBe('registered');
  });

  it('moved_out with a destination → moved_out; re_registered → registered; status by date follows', async () => {
    const id = await newPerson();
    await refused(
      id,
      { kind: 're_registered', effective_date: '2013-01-01' },
      422,
      'kind',
      'not_removed_or_moved',
    );
    const out = await record(id, {
      kind: 'moved_out',
      effective_date: '2014-02-01',
      destination_code: 500101,
      destination_note: '投亲迁往重庆市万州区',
    });
    expect(out.event).toMatchObject({ destination_code: 500101, destination_note: '投亲迁往重庆市万州区' });
    expect(out.person.status).toBe('moved_out');
    // A moved-out person is no longer registered here: no death or removal after the move.
    await refused(id, { kind: 'death', effective_date: '2015-01-01' }, 422, 'kind', 'not_registered');
    await refused(
      id,
      { kind: 're_registered', effective_date: '2014-01-15' },
      422,
      'kind',
      'not_removed_or_moved',
    );
    const back = await record(id, {
      kind: 're_registered',
      effective_date: '2016-05-01',
      evidence_ref: '迁入证明',
    });
    expect(back.person.status).toBe('registered');
    expect(await statuses(id, ['2014-01-31', '2014-02-01', '2016-04-30', '2016-05-01'])).toEqual({
      '2014-01-31': 'registered',
      '2014-02-01': 'moved_out',
      '2016-04-30': 'moved_out',
      '2016-05-01': 'registered',
    });
    expect((await statusOn(id, '2015-01-01')).supported).toBe(false);
    expect((await history(id)).map((e) => [e.kind, e.takes_effect])).toEqual([
      ['moved_out', '2014-02-01'],
      ['re_registered', '2016-05-01'],
    ]);
  });

  // BUG (reported): a destination_code that passes isDivisionCode but is not in the dictionary violates
  // the person_events foreign key (23503), which errors.ts does not map: 500 instead of 422.
  it('moved_out to a well-formed destination missing from the dictionary → 422, not 500', async () => {
    const id = await newPerson();
    const res = await post(id, {
      kind: 'moved_out',
      effective_date: '2014-02-01',
      destination_code: 419999,
      evidence_ref: '迁移证',
    });
    expect(res.status).toBe(422);
  });

  it('effective date in the future or before registered_on → 422 naming effective_date', async () => {
    const id = await newPerson({ registeredOn: '2010-01-01' });
    await refused(
      id,
      { kind: 'death', effective_date: dayAfter(today()) },
      422,
      'effective_date',
      'future_date',
    );
    await refused(
      id,
      { kind: 'death', effective_date: '2009-12-31' },
      422,
      'effective_date',
      'before_registration',
    );
    await refused(
      id,
      { kind: 'removed', reason: 'other', effective_date: '2009-12-31' },
      422,
      'effective_date',
    );
    const death = await record(id, { kind: 'death', effective_date: today() });
    await refused(
      id,
      { kind: 'correction', corrects_id: death.event.id, effective_date: dayAfter(today()) },
      422,
      'effective_date',
      'future_date',
    );
    expect((await history(id)).map((e) => e.kind)).toEqual(['death']);
  });

  it('Idempotency-Key on createPersonEvent: the replay records nothing more', async () => {
    const id = await newPerson();
    const key = randomUUID();
    const body = {
      kind: 'removed',
      reason: 'imprisonment',
      effective_date: '2012-06-01',
      evidence_ref: '判决书',
    };
    const first = await t.call('POST', `/v1/persons/${id}/events`, {
      token: tok.op581,
      body,
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    const again = await t.call('POST', `/v1/persons/${id}/events`, {
      token: tok.op581,
      body,
      headers: { 'idempotency-key': key },
    });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(await first.text());
    expect(await history(id)).toHaveLength(1);
  });
});

describe('cross-county conflicts through events', () => {
  // BUG (reported): recordPersonEvent never calls detectConflicts, so a person re-registered in 420581
  // while the same ID is registered in 420582 (after moving there) is registered twice, unflagged.
  it('re-registration while the ID is registered in another county opens a conflict', async () => {
    const nationalId = freshId(420581);
    const here = await makePerson(t, 420581, {
      village: villages[420581]!,
      nationalId,
      registeredOn: '2010-01-01',
    });
    await record(here.id, { kind: 'moved_out', effective_date: '2014-02-01', destination_code: 420582 });
    const there = await makePerson(t, 420582, { nationalId, registeredOn: '2014-03-01' });
    const back = await record(here.id, { kind: 're_registered', effective_date: '2016-05-01' });
    expect(back.person.status).toBe('registered');
    const other = await getPerson(there.id, tok.op582);
    expect([(back.person as Person & { open_conflict: boolean }).open_conflict, other]).toMatchObject([
      true,
      { open_conflict: true },
    ]);
  });

  const openConflict = async (id: string, token?: string) =>
    ((await getPerson(id, token)) as Person & { open_conflict: boolean }).open_conflict;

  it('a conflict settles when one side stops being registered, and opens again when it returns', async () => {
    const nationalId = freshId(420581);
    const here = await makePerson(t, 420581, {
      village: villages[420581]!,
      nationalId,
      registeredOn: '2010-01-01',
    });
    const there = await makePerson(t, 420582, { nationalId, registeredOn: '2011-01-01' });
    await withDivision(t.db, 420582, (tx) => detectConflicts(tx, 420582, [there.id]));
    expect(await openConflict(here.id)).toBe(true);

    const gone = await record(here.id, {
      kind: 'moved_out',
      effective_date: '2015-02-01',
      destination_code: 420582,
    });
    expect((gone.person as Person & { open_conflict: boolean }).open_conflict).toBe(false);
    expect(await openConflict(there.id, tok.op582)).toBe(false);

    // The same pair conflicts again once both are registered (a resolved pair is not exempt for ever).
    const back = await record(here.id, { kind: 're_registered', effective_date: '2016-05-01' });
    expect((back.person as Person & { open_conflict: boolean }).open_conflict).toBe(true);
    expect(await openConflict(there.id, tok.op582)).toBe(true);
  });
});

describe('removal timing by province', () => {
  it('湖北 420581 (national annual_review): registered on every date until the verification is submitted', async () => {
    // A year the county has not verified yet (a shared PostgreSQL keeps earlier runs' verifications).
    const verified = await withDivision(t.db, 420581, (tx) =>
      tx.select({ year: schema.registryVerifications.year }).from(schema.registryVerifications),
    );
    const free = Array.from({ length: new Date().getUTCFullYear() - 2008 }, (_, i) => 2007 + i).filter(
      (y) => !verified.some((v) => v.year === y),
    );
    expect(free.length, 'no unverified year left for 420581: recreate the test database').toBeGreaterThan(0);
    const year = free[Math.floor(Math.random() * free.length)]!;

    const id = await newPerson({ registeredOn: '2006-07-01', relocationDate: '2006-07-01' });
    const removal = await record(id, {
      kind: 'removed',
      reason: 'civil_servant',
      effective_date: `${year}-03-01`,
      evidence_ref: `录用通知 ${year}-12`,
    });
    expect(removal.event).toMatchObject({ kind: 'removed', reason: 'civil_servant', takes_effect: null });
    expect(removal.person.status).toBe('registered');
    const dates = [
      `${year}-02-28`,
      `${year}-03-01`,
      `${year}-12-31`,
      `${year + 1}-01-01`,
      `${year + 1}-01-20`,
      today(),
    ];
    expect(Object.values(await statuses(id, dates))).toEqual(dates.map(() => 'registered'));
    expect(await statusOn(id, `${year + 1}-01-01`)).toMatchObject({
      removal_rule: 'annual_review',
      supported: true,
    });
    expect((await history(id)).map((e) => [e.kind, e.takes_effect, e.voided])).toEqual([
      ['removed', null, false],
    ]);
    const listed = await t.call('GET', `/v1/persons?status=removed&village=${villages[420581]}&limit=200`, {
      token: tok.op581,
    });
    expect(((await listed.json()) as { data: { id: string }[] }).data.map((p) => p.id)).not.toContain(id);

    // The county submits that year's verification on 20 January (written here as the county: the
    // verification API is another slice). The removal takes effect on the submission date.
    const submitted = `${year + 1}-01-20`;
    await withDivision(t.db, 420581, (tx) =>
      tx.insert(schema.registryVerifications).values({
        divisionCode: 420581,
        year,
        previousCount: 1,
        previousSource: 'records',
        deaths: 0,
        removals: { civil_servant: 1 },
        movedOut: 0,
        movedIn: 0,
        reRegistered: 0,
        verifiedCount: 0,
        submittedBy: 'test:verification',
        submittedAt: new Date(`${submitted}T03:00:00Z`),
      }),
    );
    expect((await history(id))[0]!.takes_effect).toBe(submitted);
    expect(await statuses(id, [`${year}-03-01`, `${year + 1}-01-19`, submitted])).toEqual({
      [`${year}-03-01`]: 'registered',
      [`${year + 1}-01-19`]: 'registered',
      [submitted]: 'removed',
    });
    expect((await statusOn(id, submitted)).supported).toBe(false);

    // Re-registered after the removal took effect → registered again.
    const back = await record(id, { kind: 're_registered', effective_date: `${year + 1}-09-01` });
    expect(back.person.status).toBe('registered');
    expect(await statuses(id, [`${year + 1}-08-31`, `${year + 1}-09-01`])).toEqual({
      [`${year + 1}-08-31`]: 'removed',
      [`${year + 1}-09-01`]: 'registered',
    });
  });

  it('新疆 650102 (next_january): a removal takes effect on 1 January of the next year', async () => {
    const id = await newPerson({ county: XINJIANG });
    const removal = await record(
      id,
      { kind: 'removed', reason: 'non_agricultural_hukou', effective_date: '2019-06-15' },
      tok.xj,
    );
    expect(removal.event.takes_effect).toBe('2020-01-01');
    expect(removal.person.status).toBe('removed');
    expect(await statuses(id, ['2019-06-15', '2019-12-31', '2020-01-01'], tok.xj)).toEqual({
      '2019-06-15': 'registered',
      '2019-12-31': 'registered',
      '2020-01-01': 'removed',
    });
    expect(await statusOn(id, '2019-12-31', tok.xj)).toMatchObject({
      supported: true,
      removal_rule: 'next_january',
    });
    expect((await statusOn(id, '2020-01-01', tok.xj)).supported).toBe(false);

    const back = await record(id, { kind: 're_registered', effective_date: '2021-03-01' }, tok.xj);
    expect(back.person.status).toBe('registered');
    expect(await statuses(id, ['2020-06-01', '2021-03-01'], tok.xj)).toEqual({
      '2020-06-01': 'removed',
      '2021-03-01': 'registered',
    });
    expect((await history(id, tok.xj)).map((e) => [e.kind, e.takes_effect])).toEqual([
      ['removed', '2020-01-01'],
      ['re_registered', '2021-03-01'],
    ]);
    // Hubei's county does not see it.
    expect((await t.call('GET', `/v1/persons/${id}/status`, { token: tok.op581 })).status).toBe(404);
  });

  it('新疆: re-registered before 1 January → the removal never takes effect', async () => {
    const id = await newPerson({ county: XINJIANG });
    await record(id, { kind: 'removed', reason: 'other', effective_date: '2019-06-15' }, tok.xj);
    const back = await record(id, { kind: 're_registered', effective_date: '2019-09-01' }, tok.xj);
    expect(back.person.status).toBe('registered');
    expect((await history(id, tok.xj)).map((e) => [e.kind, e.takes_effect])).toEqual([
      ['removed', null],
      ['re_registered', '2019-09-01'],
    ]);
    expect(Object.values(await statuses(id, ['2019-06-15', '2019-12-31', '2020-01-01'], tok.xj))).toEqual([
      'registered',
      'registered',
      'registered',
    ]);
  });
});

describe('support window', () => {
  it('moved before 2006-06-30 → 2006-07-01..2026-06-30, supported false on 2026-07-01', async () => {
    const id = await newPerson({ relocationDate: '2003-05-01', registeredOn: '2006-07-01' });
    expect(await statusOn(id, '2026-06-30')).toEqual({
      person_id: id,
      on: '2026-06-30',
      status: 'registered',
      supported: true,
      support_window: { from: '2006-07-01', until: '2026-06-30' },
      removal_rule: 'annual_review',
    });
    expect(await statusOn(id, '2026-07-01')).toMatchObject({ status: 'registered', supported: false });
    expect((await statusOn(id, '2006-07-01')).supported).toBe(true);
  });

  it('the window starts at the move when it was on or after 2006-07-01; not registered before registered_on', async () => {
    for (const [relocation, from, until] of [
      ['2006-06-30', '2006-07-01', '2026-06-30'],
      ['2006-07-01', '2006-07-01', '2026-06-30'],
      ['2010-03-15', '2010-03-15', '2030-03-14'],
    ] as const) {
      const id = await newPerson({ relocationDate: relocation, registeredOn: '2010-04-01' });
      expect((await statusOn(id, '2011-01-01')).support_window, relocation).toEqual({ from, until });
    }
    const id = await newPerson({ relocationDate: '2010-03-15', registeredOn: '2010-04-01' });
    expect(await statusOn(id, '2010-03-31')).toMatchObject({ status: 'not_registered', supported: false });
    expect(await statusOn(id, '2030-03-14')).toMatchObject({ status: 'registered', supported: true });
    expect(await statusOn(id, '2030-03-15')).toMatchObject({ status: 'registered', supported: false });
    expect((await statusOn(id)).on).toBe(today());
    for (const on of ['2013-02-30', '20130101', 'today']) {
      const res = await t.call('GET', `/v1/persons/${id}/status?on=${on}`, { token: tok.op581 });
      expect(res.status, on).toBe(400);
      expect(fields(await problem(res))).toContain('query.on');
    }
    // The city reads the status of its counties' persons.
    expect((await statusOn(id, '2011-01-01', tok.city)).status).toBe('registered');
    expect((await t.call('GET', `/v1/persons/${id}/status`, { token: tok.op582 })).status).toBe(404);
  });

  // BUG (reported): getPersonStatus looks both parameters up on the `on` date; neither has a value
  // before 2006-07-01, so parameterValue throws RangeError and the request answers 500 for any date
  // before the policy started, although the person was registered then.
  it('the status on a date before 2006-07-01 answers 200, not 500', async () => {
    const id = await newPerson({ relocationDate: '2003-05-01', registeredOn: '2003-05-01' });
    expect(await statusOn(id, '2005-01-01')).toMatchObject({ status: 'registered', supported: false });
  });
});
