/**
 * /v1/registry: the annual verification 年度核定 (seed 000: 9,868 − 89 deaths = 9,779), the village
 * public notice 公示, cross-county conflicts 重复登记 seen and resolved per level, and the oversight
 * summary drilled from province to village — with the error contracts and tenancy (foreign ids 404,
 * a county never learns the other county of a conflict).
 *
 * Works on a shared PostgreSQL too: the verification and summary tests pick counties nobody has
 * data in, and the other tests look only at the rows they made.
 */
import { randomUUID } from 'node:crypto';
import { rowsOf, withDivision } from '@houfu/db';
import { maskNationalId, parseNationalId, type Relationship, type Role } from '@houfu/domain';
import { parse as parseCsv } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { SignJWT } from 'jose';
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
  tokenSettings,
} from './helpers.js';

/** The app's clock: today is 2026-11-22 (so 2027 is the future and the 2006 window has ended). */
const NOW = new Date('2026-11-22T02:00:00.000Z');

/** The 姓名 column of a notice CSV (BOM and all). */
const noticeNames = (text: string) => (parseCsv(text, { bom: true }) as string[][]).slice(1).map((r) => r[1]);

let t: TestApp;
const tokens = new Map<string, string>();
async function token(division: number, role: Role): Promise<string> {
  const key = `${division}:${role}`;
  let value = tokens.get(key);
  if (!value) {
    // Issued by the app's clock (t.token would use the machine's).
    value = await new SignJWT({ division, roles: [role] })
      .setProtectedHeader({ alg: 'ES256', kid: t.keys.activeKid, typ: 'at+jwt' })
      .setIssuer(tokenSettings.issuer)
      .setAudience(tokenSettings.audience)
      .setSubject(`user:registry-test:${role}:${division}`)
      .setIssuedAt(NOW)
      .setExpirationTime(new Date(NOW.getTime() + 600_000))
      .sign(t.keys.signingKey);
    tokens.set(key, value);
  }
  return value;
}

beforeAll(async () => {
  t = await createTestApp({ now: () => NOW });
});
afterAll(() => t.close());

// ── Factories ──────────────────────────────────────────────────────────────────────────────────

let idSerial = 0;
/** A national ID unique within this run: a fresh birth date each call; odd sequence = male. */
function nationalId(address: number, sex: 'male' | 'female' = 'male'): string {
  idSerial += 1;
  const birth = new Date(Date.UTC(1940, 0, 1) + idSerial * 86_400_000).toISOString().slice(0, 10);
  return makeNationalId(address, birth, sex === 'male' ? 101 : 102);
}

interface PersonSpec {
  household: string;
  village: number;
  relationship?: Relationship;
  name?: string;
  sex?: 'male' | 'female';
  relocationDate?: string;
  registeredOn?: string;
  relocateeKind?: 'original' | 'other';
  status?: 'registered' | 'deceased' | 'moved_out' | 'removed';
}

/**
 * Bulk factory (the column shapes of makePerson, sealed with the app's sealer): the households and
 * persons of `specs` in two set-based inserts as the county. Returns the person ids in spec order
 * and their national IDs.
 */
async function bulkPersons(county: number, specs: PersonSpec[]) {
  const households = new Map<string, { id: string; village: number }>();
  for (const s of specs) {
    if (!households.has(s.household)) households.set(s.household, { id: randomUUID(), village: s.village });
  }
  const rows = specs.map((s, i) => {
    const nid = nationalId(county, s.sex);
    const parsed = parseNationalId(nid);
    if (!parsed.ok) throw new Error(`bad test id ${nid}`);
    return {
      id: randomUUID(),
      household: households.get(s.household)!.id,
      relationship: s.relationship ?? 'head',
      name: s.name ?? `移民${i + 1}`,
      hash: t.sealer.lookupHash(nid).toString('hex'),
      sealed: t.sealer.seal(nid).toString('hex'),
      masked: maskNationalId(nid),
      sex: parsed.sex,
      birth: parsed.birthDate,
      relocation: s.relocationDate ?? '2005-03-01',
      kind: s.relocateeKind ?? 'original',
      registered: s.registeredOn ?? s.relocationDate ?? '2005-03-01',
      status: s.status ?? 'registered',
      nid,
    };
  });
  const col = <K extends keyof (typeof rows)[number]>(k: K) => sql.param(rows.map((r) => r[k]));
  await withDivision(t.db, county, async (tx) => {
    const hh = [...households.entries()];
    await tx.execute(sql`
      INSERT INTO households (division_code, id, household_no, village_code)
      SELECT ${county}::int, id::uuid, no, village
      FROM unnest(${sql.param(hh.map(([, h]) => h.id))}::text[], ${sql.param(hh.map(([no]) => no))}::text[],
                  ${sql.param(hh.map(([, h]) => h.village))}::bigint[]) AS h(id, no, village)`);
    await tx.execute(sql`
      INSERT INTO persons (division_code, id, household_id, relationship, name, id_hash, id_sealed, id_masked, sex,
                           birth_date, reservoir, relocation_date, relocatee_kind, registered_on, status)
      SELECT ${county}::int, id::uuid, hh::uuid, rel, name, decode(hash, 'hex'), decode(sealed, 'hex'), masked, sex,
             birth::date, '三峡水库', relocation::date, kind, registered::date, status
      FROM unnest(${col('id')}::text[], ${col('household')}::text[], ${col('relationship')}::text[],
                  ${col('name')}::text[], ${col('hash')}::text[], ${col('sealed')}::text[], ${col('masked')}::text[],
                  ${col('sex')}::text[], ${col('birth')}::text[], ${col('relocation')}::text[], ${col('kind')}::text[],
                  ${col('registered')}::text[], ${col('status')}::text[])
        AS p(id, hh, rel, name, hash, sealed, masked, sex, birth, relocation, kind, registered, status)`);
  });
  return { ids: rows.map((r) => r.id), nationalIds: rows.map((r) => r.nid), households };
}

interface EventSpec {
  person: string;
  kind: 'moved_in' | 'death' | 'moved_out' | 'removed' | 're_registered' | 'correction';
  date: string;
  reason?: 'civil_servant' | 'non_agricultural_hukou' | 'imprisonment' | 'other';
  corrects?: string;
  /** Also set persons.status (what the API keeps in step). */
  status?: 'registered' | 'deceased' | 'moved_out' | 'removed';
}

/** Appends events (as the county, in order) and returns their ids. */
async function addEvents(county: number, events: EventSpec[]): Promise<string[]> {
  return withDivision(t.db, county, async (tx) => {
    const ids: string[] = [];
    for (const e of events) {
      const id = randomUUID();
      await tx.execute(sql`
        INSERT INTO person_events (division_code, id, person_id, kind, effective_date, reason, destination_code,
                                   origin_code, corrects_id, evidence_ref, recorded_by)
        VALUES (${county}, ${id}::uuid, ${e.person}::uuid, ${e.kind}, ${e.date}::date, ${e.reason ?? null},
                ${e.kind === 'moved_out' ? 420581 : null}, ${e.kind === 'moved_in' ? 420582 : null},
                ${e.corrects ?? null}::uuid, '证明材料', 'test:factory')`);
      if (e.status) {
        await tx.execute(
          sql`UPDATE persons SET status = ${e.status} WHERE division_code = ${county} AND id = ${e.person}::uuid`,
        );
      }
      ids.push(id);
    }
    return ids;
  });
}

/** Counties (not directly administered, outside Hubei and Beijing) with no registry data yet. */
async function freshCounties(n: number): Promise<number[]> {
  const rows = rowsOf<{ code: number }>(
    await t.admin.orm.execute(sql`
      SELECT d.code FROM divisions d
      WHERE d.level = 'county' AND d.code / 10000 NOT IN (11, 42) AND (d.code / 100) % 100 <> 90
        AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.division_code = d.code)
        AND NOT EXISTS (SELECT 1 FROM registry_verifications v WHERE v.division_code = d.code)
        AND NOT EXISTS (SELECT 1 FROM localities l WHERE l.division_code = d.code)
      ORDER BY random() LIMIT ${n}`),
  );
  return rows.map((r) => Number(r.code));
}

const cityOf = (county: number) => county - (county % 100);
const provinceOf = (code: number) => code - (code % 10_000);

// ── Annual verification 年度核定 ──────────────────────────────────────────────────────────────────

interface Verification {
  county_code: number;
  year: number;
  previous_count: number;
  previous_source: 'verification' | 'records';
  deaths: number;
  removals: Record<string, number>;
  moved_out: number;
  decrease: number;
  moved_in: number;
  re_registered: number;
  increase: number;
  verified_count: number;
  submitted?: boolean;
  note?: string | null;
  submitted_by?: string;
  submitted_at?: string;
}

describe('annual verification', () => {
  let seed: number; // the seed-000 county
  let mixed: number;
  let mixedIds: string[] = [];

  beforeAll(async () => {
    [seed, mixed] = (await freshCounties(2)) as [number, number];

    // Seed 000: 9,868 registered at the end of 2012 (9,869 registered, one died in 2012), 89 deaths
    // in 2013, and three people first registered in 2013 without a move-in (births are not added).
    const village = (await makeTownship(t.db, seed, 1)).villages[0]!.code;
    const specs: PersonSpec[] = [];
    for (let i = 0; i < 9_869; i += 1) {
      specs.push({
        household: `S${Math.floor(i / 4)}`,
        village,
        relationship: i % 4 === 0 ? 'head' : 'child',
      });
    }
    for (let i = 0; i < 3; i += 1) {
      specs.push({ household: 'S-new', village, relationship: 'child', registeredOn: '2013-06-01' });
    }
    const { ids } = await bulkPersons(seed, specs);
    await addEvents(seed, [{ person: ids[0]!, kind: 'death', date: '2012-11-30', status: 'deceased' }]);
    await withDivision(t.db, seed, async (tx) => {
      await tx.execute(sql`
        WITH chosen AS (
          SELECT id, row_number() OVER (ORDER BY id) AS n FROM persons
          WHERE division_code = ${seed} AND id = ANY(${sql.param(ids.slice(1, 90))}::text[]::uuid[])
        ), ev AS (
          INSERT INTO person_events (division_code, person_id, kind, effective_date, evidence_ref, recorded_by)
          SELECT ${seed}::int, id, 'death', date '2013-01-01' + (n * 4)::int, '死亡证明', 'test:factory' FROM chosen
          RETURNING person_id
        )
        UPDATE persons SET status = 'deceased' WHERE division_code = ${seed} AND id IN (SELECT person_id FROM ev)`);
    });

    // The mixed county: 20 registered in 2010, one moved in during 2013.
    const mv = (await makeTownship(t.db, mixed, 1)).villages[0]!.code;
    const made = await bulkPersons(mixed, [
      ...Array.from({ length: 20 }, (_, i) => ({
        household: `M${i}`,
        village: mv,
        registeredOn: '2010-01-01',
      })),
      { household: 'M-in', village: mv, registeredOn: '2013-04-01', relocationDate: '2008-05-01' },
    ]);
    mixedIds = made.ids;
    const p = (i: number) => mixedIds[i]!;
    const [, , voidedDeath] = await addEvents(mixed, [
      { person: p(0), kind: 'death', date: '2013-02-01', status: 'deceased' },
      { person: p(1), kind: 'death', date: '2013-09-30', status: 'deceased' },
      { person: p(2), kind: 'death', date: '2013-03-03' },
      // Removals are left 'registered' in persons.status, as if waiting for the annual review.
      { person: p(3), kind: 'removed', date: '2013-04-01', reason: 'civil_servant' },
      { person: p(4), kind: 'removed', date: '2013-04-02', reason: 'non_agricultural_hukou' },
      { person: p(5), kind: 'removed', date: '2013-04-03', reason: 'imprisonment' },
      { person: p(6), kind: 'removed', date: '2013-04-04', reason: 'other' },
      { person: p(7), kind: 'moved_out', date: '2013-05-01', status: 'moved_out' },
      { person: p(8), kind: 'removed', date: '2012-06-01', reason: 'other', status: 'removed' },
      { person: p(8), kind: 're_registered', date: '2013-08-01', status: 'registered' },
      { person: p(9), kind: 'moved_out', date: '2012-07-01', status: 'moved_out' },
      { person: p(10), kind: 'death', date: '2014-02-01', status: 'deceased' },
      { person: p(20), kind: 'moved_in', date: '2013-04-01' },
    ]);
    await addEvents(mixed, [
      { person: p(2), kind: 'correction', date: '2013-03-05', corrects: voidedDeath! },
    ]);
  });

  const preview = async (division: number, role: Role, query: string) =>
    t.call('GET', `/v1/registry/verifications/preview?${query}`, { token: await token(division, role) });

  it('seed 000: 9,868 registered at the end of 2012, 89 deaths in 2013 → 9,779 (preview, then submit)', async () => {
    const res = await preview(seed, 'county_approver', 'year=2013');
    expect(res.status).toBe(200);
    const body = await json<Verification>(res);
    expect(body).toMatchObject({
      county_code: seed,
      year: 2013,
      previous_count: 9_868,
      previous_source: 'records',
      deaths: 89,
      removals: { civil_servant: 0, non_agricultural_hukou: 0, imprisonment: 0, other: 0 },
      moved_out: 0,
      decrease: 89,
      moved_in: 0,
      re_registered: 0,
      increase: 0,
      verified_count: 9_779,
      submitted: false,
    });

    const submitted = await t.call('POST', '/v1/registry/verifications', {
      token: await token(seed, 'county_approver'),
      body: { year: 2013, note: '2013年度核定，自然减少89人' },
    });
    expect(submitted.status).toBe(201);
    const stored = await json<Verification>(submitted);
    expect(stored).toMatchObject({
      county_code: seed,
      year: 2013,
      previous_count: 9_868,
      deaths: 89,
      verified_count: 9_779,
      note: '2013年度核定，自然减少89人',
      submitted_by: `user:registry-test:county_approver:${seed}`,
      submitted_at: NOW.toISOString(),
    });

    // The next year starts from the stored verification, not from the records.
    const next = await json<Verification>(await preview(seed, 'county_approver', 'year=2014'));
    expect(next).toMatchObject({
      previous_source: 'verification',
      previous_count: 9_779,
      verified_count: 9_779,
    });
    expect((await json<Verification>(await preview(seed, 'county_approver', 'year=2013'))).submitted).toBe(
      true,
    );

    const audit = await t.call(
      'GET',
      `/v1/audit-events?division=${seed}&action=registry.verification.submit`,
      { token: await token(seed, 'county_approver') },
    );
    const events = (
      await json<{ data: { entity_id: string; changes: Record<string, { new: unknown }> }[] }>(audit)
    ).data;
    expect(events).toHaveLength(1);
    expect(events[0]?.entity_id).toBe(`${seed}:2013`);
    expect(events[0]?.changes.verified_count?.new).toBe(9_779);
  });

  it('mixed year: removals by reason, moves out and in, a re-registration, a voided death, a later death', async () => {
    const body = await json<Verification>(await preview(mixed, 'county_approver', 'year=2013'));
    // End of 2012: 20 registered, one removed and one moved out in 2012 → 18.
    expect(body).toMatchObject({
      previous_count: 18,
      previous_source: 'records',
      deaths: 2,
      removals: { civil_servant: 1, non_agricultural_hukou: 1, imprisonment: 1, other: 1 },
      moved_out: 1,
      decrease: 7,
      moved_in: 1,
      re_registered: 1,
      increase: 2,
      verified_count: 13,
    });
    // The records at the end of 2013 agree with the flows (previous of 2014 while 2013 is unsubmitted).
    const next = await json<Verification>(await preview(mixed, 'county_approver', 'year=2014'));
    expect(next).toMatchObject({
      previous_source: 'records',
      previous_count: 13,
      deaths: 1,
      verified_count: 12,
    });
  });

  it('submitting applies the year’s removals to the persons’ status; Idempotency-Key replays', async () => {
    const headers = { 'idempotency-key': randomUUID() };
    const approver = await token(mixed, 'county_approver');
    const first = await t.call('POST', '/v1/registry/verifications', {
      token: approver,
      body: { year: 2013 },
      headers,
    });
    expect(first.status).toBe(201);
    const replay = await t.call('POST', '/v1/registry/verifications', {
      token: approver,
      body: { year: 2013 },
      headers,
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(await first.json());

    const statuses = rowsOf<{ id: string; status: string }>(
      await withDivision(t.db, mixed, (tx) =>
        tx.execute(sql`SELECT id::text AS id, status FROM persons WHERE division_code = ${mixed}
          AND id = ANY(${sql.param(mixedIds.slice(3, 7))}::text[]::uuid[])`),
      ),
    );
    expect(statuses.map((s) => s.status)).toEqual(['removed', 'removed', 'removed', 'removed']);
  });

  it('a second submission of the year → 409; a future year or an earlier year after a later one → 422', async () => {
    const approver = await token(seed, 'county_approver');
    const again = await t.call('POST', '/v1/registry/verifications', {
      token: approver,
      body: { year: 2013 },
    });
    expect(again.status).toBe(409);
    expect((await problem(again)).code).toBe('conflict');

    const future = await t.call('POST', '/v1/registry/verifications', {
      token: approver,
      body: { year: 2027 },
    });
    expect(future.status).toBe(422);
    expect(fields(await problem(future))).toEqual(['year']);

    const earlier = await t.call('POST', '/v1/registry/verifications', {
      token: approver,
      body: { year: 2012 },
    });
    expect(earlier.status).toBe(422);
    expect(fields(await problem(earlier))).toEqual(['year']);

    const futurePreview = await preview(seed, 'county_approver', 'year=2027');
    expect(futurePreview.status).toBe(422);
    expect(fields(await problem(futurePreview))).toEqual(['query.year']);
  });

  it('validation names the field: year out of range, unknown or server-owned fields, query year', async () => {
    const approver = await token(seed, 'county_approver');
    for (const [body, field] of [
      [{ year: 1999 }, 'year'],
      [{ year: '2013' }, 'year'],
      [{}, 'year'],
      [{ year: 2013, verified_count: 1 }, 'verified_count'],
      [{ year: 2013, division_code: 420581 }, 'division_code'],
      [{ year: 2013, note: '' }, 'note'],
    ] as const) {
      const res = await t.call('POST', '/v1/registry/verifications', { token: approver, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fields(await problem(res))).toContain(field);
    }
    for (const query of ['', 'year=13', 'year=abc', 'year=1999']) {
      const res = await preview(seed, 'county_approver', query);
      expect(res.status, query).toBe(400);
      expect(fields(await problem(res))).toContain('query.year');
    }
  });

  it('above a county, preview names a county in scope: missing → 400, not a county → 400, foreign → 404', async () => {
    const city = cityOf(seed);
    const ok = await preview(city, 'city_reviewer', `year=2013&county=${seed}`);
    expect(ok.status).toBe(200);
    expect((await json<Verification>(ok)).verified_count).toBe(9_779);
    const nation = await preview(0, 'national_admin', `year=2013&county=${seed}`);
    expect((await json<Verification>(nation)).verified_count).toBe(9_779);

    const missing = await preview(city, 'city_reviewer', 'year=2013');
    expect(missing.status).toBe(400);
    expect(fields(await problem(missing))).toEqual(['query.county']);
    const notCounty = await preview(city, 'city_reviewer', `year=2013&county=${city}`);
    expect(notCounty.status).toBe(400);
    expect(fields(await problem(notCounty))).toEqual(['query.county']);

    for (const [division, role, county] of [
      [420500, 'city_reviewer', seed],
      [420581, 'county_approver', seed],
      [seed, 'county_approver', 420581],
      [seed, 'county_approver', 429999],
    ] as const) {
      const res = await preview(division, role, `year=2013&county=${county}`);
      expect(res.status, `${division} → ${county}`).toBe(404);
      expect((await problem(res)).code).toBe('not_found');
    }
  });

  it('only a county approver submits: operator, city reviewer, auditor → 403', async () => {
    for (const [division, role] of [
      [seed, 'county_operator'],
      [cityOf(seed), 'city_reviewer'],
      [seed, 'auditor'],
      [0, 'national_admin'],
    ] as const) {
      const res = await t.call('POST', '/v1/registry/verifications', {
        token: await token(division, role),
        body: { year: 2014 },
      });
      expect(res.status, role).toBe(403);
      expect((await problem(res)).code).toBe('forbidden');
    }
  });

  it('lists stored verifications in scope, paginated; a county sees only its own', async () => {
    const nation = await token(0, 'national_admin');
    const page1 = await json<{ data: Verification[]; next_cursor: string | null }>(
      await t.call('GET', `/v1/registry/verifications?division=${seed}&limit=1`, { token: nation }),
    );
    expect(page1.data.map((v) => [v.county_code, v.year])).toEqual([[seed, 2013]]);
    expect(page1.data[0]).toMatchObject({ verified_count: 9_779, decrease: 89, previous_source: 'records' });
    expect(page1.next_cursor).toBeNull();

    const own = await json<{ data: Verification[] }>(
      await t.call('GET', '/v1/registry/verifications?year=2013', {
        token: await token(mixed, 'county_approver'),
      }),
    );
    expect(own.data.map((v) => v.county_code)).toEqual([mixed]);

    const province = provinceOf(mixed);
    const list = await json<{ data: Verification[]; next_cursor: string | null }>(
      await t.call('GET', `/v1/registry/verifications?division=${province}&year=2013&limit=200`, {
        token: nation,
      }),
    );
    expect(list.data.some((v) => v.county_code === mixed)).toBe(true);
    expect(list.data.every((v) => v.county_code >= province && v.county_code < province + 10_000)).toBe(true);

    const foreign = await t.call('GET', '/v1/registry/verifications?division=420581', {
      token: await token(seed, 'county_approver'),
    });
    expect(foreign.status).toBe(404);
    const badCursor = await t.call('GET', '/v1/registry/verifications?cursor=bm9wZQ', { token: nation });
    expect(fields(await problem(badCursor))).toEqual(['query.cursor']);
  });

  it('group_by sums per county and per city, with counties submitted of those expected', async () => {
    const nation = await token(0, 'national_admin');
    const city = cityOf(seed);
    interface Groups {
      groups: (Verification & {
        code: number;
        name: string;
        counties_expected: number;
        counties_submitted: number;
      })[];
      total: Verification & { counties_expected: number; counties_submitted: number };
    }
    const byCounty = await json<Groups>(
      await t.call('GET', `/v1/registry/verifications?year=2013&division=${city}&group_by=county`, {
        token: nation,
      }),
    );
    const row = byCounty.groups.find((g) => g.code === seed);
    expect(row).toMatchObject({
      counties_expected: 1,
      counties_submitted: 1,
      previous_count: 9_868,
      deaths: 89,
      decrease: 89,
      verified_count: 9_779,
    });
    expect(row?.name).toBeTruthy();

    const byCity = await json<Groups>(
      await t.call('GET', `/v1/registry/verifications?year=2013&division=${city}&group_by=city`, {
        token: nation,
      }),
    );
    expect(byCity.groups.map((g) => g.code)).toEqual([city]);
    const sum = (k: 'verified_count' | 'counties_expected' | 'counties_submitted' | 'deaths') =>
      byCounty.groups.reduce((n, g) => n + g[k], 0);
    expect(byCity.groups[0]).toMatchObject({
      verified_count: sum('verified_count'),
      counties_expected: sum('counties_expected'),
      counties_submitted: sum('counties_submitted'),
      deaths: sum('deaths'),
    });
    expect(byCity.total.verified_count).toBe(sum('verified_count'));

    const noYear = await t.call('GET', `/v1/registry/verifications?division=${city}&group_by=county`, {
      token: nation,
    });
    expect(fields(await problem(noYear))).toEqual(['query.year']);
    const above = await t.call(
      'GET',
      `/v1/registry/verifications?year=2013&division=${city}&group_by=province`,
      {
        token: nation,
      },
    );
    expect(fields(await problem(above))).toEqual(['query.group_by']);
    const bad = await t.call('GET', '/v1/registry/verifications?year=2013&group_by=village', {
      token: nation,
    });
    expect(fields(await problem(bad))).toEqual(['query.group_by']);
  });
});

// ── Public notice 公示 ─────────────────────────────────────────────────────────────────────────

describe('public notice', () => {
  let village: number;
  let townshipName: string;
  let villageName: string;
  let nationalIds: string[] = [];

  beforeAll(async () => {
    const made = await makeTownship(t.db, 420581, 1);
    village = made.villages[0]!.code;
    townshipName = made.township.name;
    villageName = made.villages[0]!.name;
    const h = (n: string) => `V${village}-${n}`;
    const spec = (
      household: string,
      relationship: Relationship,
      name: string,
      extra: Partial<PersonSpec> = {},
    ) => ({
      household: h(household),
      village,
      relationship,
      name,
      ...extra,
    });
    const { ids, nationalIds: nids } = await bulkPersons(420581, [
      spec('0010', 'head', '王五', { status: 'deceased' }), // 0 died 2013
      spec('0010', 'child', '王小五', { sex: 'female' }), // 1 removed 2013 (verified out of 2013)
      spec('0010', 'spouse', '赵六', { sex: 'female' }), // 2
      spec('0002', 'sibling', '张四'), // 3 removed 2012
      spec('0002', 'child', '张三'), // 4
      spec('0002', 'head', '张大'), // 5
      spec('0002', 'spouse', '李二<b>&"\'', { sex: 'female' }), // 6 escaped everywhere
      spec('0002', 'other', '新来', { relocationDate: '2014-03-01' }), // 7 registered only in 2014
      spec('0001', 'grandchild', '=1+1', { relocationDate: '2012-06-01', relocateeKind: 'other' }), // 8
      spec('0001', 'head', '陈一', { status: 'moved_out' }), // 9 moved out 2013
      spec('0001', 'child', '陈"二,', { relocationDate: '2012-06-01' }), // 10
      spec('0001', 'spouse', '周三', { sex: 'female', relocationDate: '2012-06-01' }), // 11
    ]);
    nationalIds = nids;
    await addEvents(420581, [
      { person: ids[0]!, kind: 'death', date: '2013-06-01' },
      { person: ids[1]!, kind: 'removed', date: '2013-05-01', reason: 'civil_servant' },
      { person: ids[3]!, kind: 'removed', date: '2012-05-01', reason: 'other' },
      { person: ids[9]!, kind: 'moved_out', date: '2013-03-01' },
    ]);
  });

  const notice = async (query: string, division = 420581, role: Role = 'county_operator') =>
    t.call('GET', `/v1/registry/notice?${query}`, { token: await token(division, role) });

  it('CSV: the persons supported at the end of the year, by household then relationship, IDs masked', async () => {
    const res = await notice(`village=${village}&year=2013&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).toMatch(
      new RegExp(`^attachment; filename="notice-${village}-2013\\.csv"; filename\\*=UTF-8''`),
    );
    expect(res.headers.get('cache-control')).toBe('no-store');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder().decode(bytes.slice(3));
    expect(text.endsWith('\r\n')).toBe(true);
    const table = parseCsv(text) as string[][];
    expect(table[0]).toEqual(['户编号', '姓名', '性别', '身份证号', '与户主关系', '移民类别']);
    const h = (n: string) => `V${village}-${n}`;
    expect(table.slice(1).map((r) => [r[0], r[1], r[2], r[4], r[5]])).toEqual([
      [h('0001'), '周三', '女', '配偶', '原迁移民'],
      [h('0001'), '陈"二,', '男', '子女', '原迁移民'],
      [h('0001'), "'=1+1", '男', '孙子女', '其他'],
      [h('0002'), '张大', '男', '户主', '原迁移民'],
      [h('0002'), '李二<b>&"\'', '女', '配偶', '原迁移民'],
      [h('0002'), '张三', '男', '子女', '原迁移民'],
      [h('0010'), '赵六', '女', '配偶', '原迁移民'],
    ]);
    for (const row of table.slice(1)) expect(row[3]).toMatch(/^420581\*{8}[\dX]{4}$/);
    for (const nid of nationalIds) expect(text).not.toContain(nid);
  });

  it('HTML: a printable page in Chinese with place, year, counts and blanks; every value escaped', async () => {
    const res = await notice(`village=${village}&year=2013&format=html`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>\n<html lang="zh-CN">/);
    for (const text of [
      '宜都市',
      townshipName,
      villageName,
      '2013年度',
      '共 3 户、7 人',
      '公示期',
      '监督电话',
      '@media print',
    ]) {
      expect(html, text).toContain(text);
    }
    expect(html).toContain('李二&lt;b&gt;&amp;&quot;&#39;');
    expect(html).not.toContain('<b>');
    expect(html.match(/420581\*{8}[\dX]{4}/g)).toHaveLength(7);
    for (const nid of nationalIds) expect(html).not.toContain(nid);
  });

  it('the support window: at the end of 2026 those moved before mid-2006 are no longer listed', async () => {
    const res = await notice(`village=${village}&year=2026&format=csv`);
    const names = noticeNames(await res.text());
    // Left: those moved 2012-06-01 (window to 2032-05-31) and the 2014 arrival.
    expect(names).toEqual(['周三', '陈"二,', "'=1+1", '新来']);
  });

  it('a city above sees it; another city or county → 404; a township code, a bad format or year → 400; 2027 → 422', async () => {
    expect((await notice(`village=${village}&year=2013`, 420500, 'city_reviewer')).status).toBe(200);
    expect((await notice(`village=${village}&year=2013`, 420000, 'auditor')).status).toBe(200);
    for (const [division, role] of [
      [420100, 'city_reviewer'],
      [420582, 'county_operator'],
      [110000, 'province_admin'],
    ] as const) {
      const res = await notice(`village=${village}&year=2013`, division, role);
      expect(res.status, `${division}`).toBe(404);
      expect((await problem(res)).code).toBe('not_found');
    }
    const missing = await notice(`village=${village + 900}&year=2013`);
    expect(missing.status).toBe(404);
    const township = await notice(`village=${village - (village % 1000)}&year=2013`);
    expect(fields(await problem(township))).toEqual(['query.village']);
    const format = await notice(`village=${village}&year=2013&format=pdf`);
    expect(fields(await problem(format))).toEqual(['query.format']);
    const noYear = await notice(`village=${village}`);
    expect(fields(await problem(noYear))).toEqual(['query.year']);
    const future = await notice(`village=${village}&year=2027`);
    expect(future.status).toBe(422);
    expect(fields(await problem(future))).toEqual(['query.year']);
    const beforePolicy = await notice(`village=${village}&year=2005`);
    expect(beforePolicy.status).toBe(422);
  });

  it('the notice lists the verified population: removals count on their event date, even in 新疆 (rule next_january)', async () => {
    const county = 650102; // 乌鲁木齐市天山区
    const v = (await makeTownship(t.db, county, 1)).villages[0]!.code;
    const { ids } = await bulkPersons(county, [
      { household: `X${v}-1`, village: v, name: '阿依' },
      { household: `X${v}-1`, village: v, relationship: 'spouse', name: '买买提' },
      { household: `X${v}-2`, village: v, name: '古丽' },
    ]);
    await addEvents(county, [
      { person: ids[1]!, kind: 'removed', date: '2012-05-01', reason: 'non_agricultural_hukou' },
      { person: ids[2]!, kind: 'removed', date: '2013-05-01', reason: 'other' },
    ]);
    const res = await t.call('GET', `/v1/registry/notice?village=${v}&year=2013&format=csv`, {
      token: await token(0, 'national_admin'),
    });
    expect(noticeNames(await res.text())).toEqual(['阿依']);
  });
});

// ── Cross-county conflicts 重复登记 ──────────────────────────────────────────────────────────────

interface CountyItem {
  view: 'county';
  id: string;
  status: string;
  outcome: string | null;
  reviewer_level: string;
  person: { id: string; name: string; national_id_masked: string; status: string };
}
interface ReviewerItem {
  view: 'reviewer';
  id: string;
  reviewer_division: { code: number; level: string };
  status: string;
  national_id_masked: string;
  resolved_by: string | null;
  sides: {
    side: 'a' | 'b';
    county_code: number;
    county_name: string;
    person_id: string;
    name: string;
    national_id_masked: string;
    status: string;
    relocation_date: string;
    outcome: string | null;
  }[];
  resolution: Record<string, unknown> | null;
}

describe('cross-county conflicts', () => {
  /** Registers one national ID in two counties and lets the second county detect it. */
  async function conflict(a: number, b: number) {
    const nid = nationalId(a);
    const pa = await makePerson(t, a, { nationalId: nid, name: `甲${a}` });
    const pb = await makePerson(t, b, { nationalId: nid, name: `乙${b}`, relocationDate: '2004-09-01' });
    const [row] = rowsOf<{ opened: number }>(
      await withDivision(t.db, b, (tx) =>
        tx.execute(sql`SELECT registry_detect_conflicts(${b}::int, ARRAY[${pb.id}]::uuid[]) AS opened`),
      ),
    );
    expect(Number(row?.opened)).toBe(1);
    return { a: pa, b: pb, nid };
  }

  let sameCity: Awaited<ReturnType<typeof conflict>>;
  let sameProvince: Awaited<ReturnType<typeof conflict>>;
  let national: Awaited<ReturnType<typeof conflict>>;

  beforeAll(async () => {
    sameCity = await conflict(420581, 420582);
    sameProvince = await conflict(420581, 420115);
    national = await conflict(420581, 110101);
  });

  async function listAll<T extends { id: string }>(division: number, role: Role, query = ''): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i += 1) {
      const res = await t.call(
        'GET',
        `/v1/registry/conflicts?limit=200${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: await token(division, role) },
      );
      expect(res.status).toBe(200);
      const page = await json<{ data: T[]; next_cursor: string | null }>(res);
      out.push(...page.data);
      cursor = page.next_cursor;
      if (!cursor) return out;
    }
    throw new Error('pagination did not end');
  }

  async function conflictId(x: { a: { id: string } }) {
    const all = await listAll<ReviewerItem>(0, 'national_admin');
    return all.find((c) => c.sides.some((s) => s.person_id === x.a.id))!.id;
  }

  it('each reviewer level sees exactly the conflicts it reviews or oversees', async () => {
    const ids = {
      city: await conflictId(sameCity),
      province: await conflictId(sameProvince),
      nation: await conflictId(national),
    };
    const sees = async (division: number, role: Role) => {
      const visible = new Set((await listAll<ReviewerItem>(division, role)).map((c) => c.id));
      return Object.entries(ids)
        .filter(([, id]) => visible.has(id))
        .map(([k]) => k);
    };
    expect(await sees(420500, 'city_reviewer')).toEqual(['city']);
    expect(await sees(420100, 'city_reviewer')).toEqual([]);
    expect(await sees(420000, 'province_admin')).toEqual(['city', 'province']);
    expect(await sees(110000, 'province_admin')).toEqual([]);
    expect(await sees(0, 'national_admin')).toEqual(['city', 'province', 'nation']);
    expect(await sees(0, 'auditor')).toEqual(['city', 'province', 'nation']);

    const city = (await listAll<ReviewerItem>(420500, 'city_reviewer')).find((c) => c.id === ids.city)!;
    expect(city).toMatchObject({
      view: 'reviewer',
      reviewer_division: { code: 420500, level: 'city' },
      status: 'open',
      national_id_masked: maskNationalId(sameCity.nid),
      resolution: null,
    });
    expect(city.sides).toEqual([
      expect.objectContaining({
        side: 'a',
        county_code: 420581,
        county_name: '宜都市',
        person_id: sameCity.a.id,
        name: '甲420581',
        status: 'registered',
        relocation_date: '2003-05-01',
        outcome: null,
      }),
      expect.objectContaining({
        side: 'b',
        county_code: 420582,
        county_name: '当阳市',
        person_id: sameCity.b.id,
        name: '乙420582',
        relocation_date: '2004-09-01',
      }),
    ]);
    expect(JSON.stringify(city)).not.toContain(sameCity.nid);
  });

  it('a county sees only its own side: its person, the status and the reviewer level — never the other county', async () => {
    const mine = (await listAll<CountyItem>(420581, 'county_operator')).filter((c) =>
      [sameCity.a.id, sameProvince.a.id, national.a.id].includes(c.person.id),
    );
    expect(mine.map((c) => [c.person.id, c.reviewer_level])).toEqual([
      [sameCity.a.id, 'city'],
      [sameProvince.a.id, 'province'],
      [national.a.id, 'nation'],
    ]);
    for (const c of mine) {
      expect(Object.keys(c).sort()).toEqual(
        ['detected_at', 'id', 'outcome', 'person', 'reviewer_level', 'status', 'view'].sort(),
      );
      expect(c.view).toBe('county');
    }
    const text = JSON.stringify(mine);
    for (const other of [sameCity.b, sameProvince.b, national.b]) {
      expect(text).not.toContain(other.id);
      expect(text).not.toContain(other.name);
    }
    for (const code of ['420582', '420115', '110101', '420500', '420000']) expect(text).not.toContain(code);

    const theirs = await listAll<CountyItem>(420582, 'county_approver');
    expect(theirs.filter((c) => c.person.id === sameCity.b.id)).toHaveLength(1);
    expect(JSON.stringify(theirs)).not.toContain(sameCity.a.id);
  });

  it('the reviewing city resolves: the ended person moves out in its county, both sides resolved, audited twice', async () => {
    const id = await conflictId(sameCity);
    const city = await token(420500, 'city_reviewer');
    const body = {
      keep: 'a',
      ended: { kind: 'moved_out', effective_date: '2026-10-01', evidence_ref: '市移民局复核意见 2026-07' },
    };

    // Another city cannot even see it.
    const wuhan = await t.call('POST', `/v1/registry/conflicts/${id}/resolve`, {
      token: await token(420100, 'city_reviewer'),
      body,
    });
    expect(wuhan.status).toBe(404);

    const res = await t.call('POST', `/v1/registry/conflicts/${id}/resolve`, { token: city, body });
    expect(res.status).toBe(200);
    const resolved = await json<ReviewerItem>(res);
    expect(resolved).toMatchObject({
      id,
      status: 'resolved',
      resolved_by: 'user:registry-test:city_reviewer:420500',
      resolution: {
        kept_person_id: sameCity.a.id,
        ended_person_id: sameCity.b.id,
        ended_kind: 'moved_out',
        effective_date: '2026-10-01',
      },
    });
    expect(resolved.sides.map((s) => [s.county_code, s.outcome, s.status])).toEqual([
      [420581, 'kept', 'registered'],
      [420582, 'ended', 'moved_out'],
    ]);

    const again = await t.call('POST', `/v1/registry/conflicts/${id}/resolve`, { token: city, body });
    expect(again.status).toBe(409);
    expect((await problem(again)).code).toBe('conflict');

    const [event] = rowsOf<{ kind: string; destination_code: number; recorded_by: string }>(
      await withDivision(t.db, 420582, (tx) =>
        tx.execute(sql`SELECT kind, destination_code, recorded_by FROM person_events
          WHERE division_code = 420582 AND person_id = ${sameCity.b.id}::uuid`),
      ),
    );
    expect(event).toMatchObject({ kind: 'moved_out', destination_code: 420581 });

    const cityAudit = await json<{ data: { entity_id: string; division_code: number }[] }>(
      await t.call(
        'GET',
        `/v1/audit-events?division=420500&action=registry.conflict.resolve&entity_id=${id}`,
        {
          token: city,
        },
      ),
    );
    expect(cityAudit.data).toHaveLength(1);
    const countyAudit = await json<{ data: { entity_id: string }[] }>(
      await t.call(
        'GET',
        `/v1/audit-events?division=420582&action=person.event.moved_out&entity_id=${sameCity.b.id}`,
        {
          token: city,
        },
      ),
    );
    expect(countyAudit.data).toHaveLength(1);

    const kept = (await listAll<CountyItem>(420581, 'county_operator', '&status=resolved')).find(
      (c) => c.id === id,
    );
    expect(kept).toMatchObject({ status: 'resolved', outcome: 'kept' });
    const ended = (await listAll<CountyItem>(420582, 'county_operator')).find((c) => c.id === id);
    expect(ended).toMatchObject({ status: 'resolved', outcome: 'ended', person: { status: 'moved_out' } });
    expect(
      (await listAll<CountyItem>(420582, 'county_operator', '&status=open')).map((c) => c.id),
    ).not.toContain(id);
  });

  it('a city cannot resolve a province-level conflict (404); the province does, keeping a person by id', async () => {
    const id = await conflictId(sameProvince);
    const body = {
      keep: sameProvince.a.id, // the 420581 registration, side b (420115 < 420581)
      ended: {
        kind: 'removed',
        reason: 'other',
        effective_date: '2026-09-01',
        evidence_ref: '省移民局核查 2026-3',
      },
    };
    const city = await t.call('POST', `/v1/registry/conflicts/${id}/resolve`, {
      token: await token(420500, 'city_reviewer'),
      body,
    });
    expect(city.status).toBe(404);
    const res = await t.call('POST', `/v1/registry/conflicts/${id}/resolve`, {
      token: await token(420000, 'province_admin'),
      body,
    });
    expect(res.status).toBe(200);
    const resolved = await json<ReviewerItem>(res);
    // A removal follows Hubei's rule (annual_review): recorded now, it takes effect when the county
    // submits its 2026 verification — until then the ended registration still shows as registered.
    expect(resolved.sides.map((s) => [s.county_code, s.outcome, s.status])).toEqual([
      [420115, 'ended', 'registered'],
      [420581, 'kept', 'registered'],
    ]);
    const [event] = rowsOf<{ kind: string; reason: string }>(
      await withDivision(t.db, 420115, (tx) =>
        tx.execute(sql`SELECT kind, reason FROM person_events
          WHERE division_code = 420115 AND person_id = ${sameProvince.b.id}::uuid`),
      ),
    );
    expect(event).toEqual({ kind: 'removed', reason: 'other' });
  });

  it('invalid resolutions: 400 naming the field, 422 for a person outside the conflict or a future date, nothing changed', async () => {
    const id = await conflictId(national);
    const nation = await token(0, 'national_admin');
    const base = { kind: 'moved_out', effective_date: '2026-10-01', evidence_ref: '国家复核 2026-1' };
    for (const [body, field] of [
      [{ keep: 'c', ended: base }, 'keep'],
      [{ keep: 'a' }, 'ended'],
      [{ keep: 'a', ended: { ...base, kind: 'death' } }, 'ended.kind'],
      [{ keep: 'a', ended: { ...base, kind: 'removed' } }, 'ended.reason'],
      [{ keep: 'a', ended: { ...base, reason: 'other' } }, 'ended.reason'],
      [{ keep: 'a', ended: { ...base, effective_date: '2026-02-30' } }, 'ended.effective_date'],
      [{ keep: 'a', ended: { ...base, evidence_ref: '' } }, 'ended.evidence_ref'],
      [{ keep: 'a', ended: base, status: 'resolved' }, 'status'],
      [{ keep: 'a', ended: { ...base, county_code: 420581 } }, 'ended.county_code'],
    ] as const) {
      const res = await t.call('POST', `/v1/registry/conflicts/${id}/resolve`, { token: nation, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fields(await problem(res))).toContain(field);
    }
    const stranger = await t.call('POST', `/v1/registry/conflicts/${id}/resolve`, {
      token: nation,
      body: { keep: sameCity.a.id, ended: base },
    });
    expect(stranger.status).toBe(422);
    expect(fields(await problem(stranger))).toEqual(['keep']);
    const future = await t.call('POST', `/v1/registry/conflicts/${id}/resolve`, {
      token: nation,
      body: { keep: 'a', ended: { ...base, effective_date: '2027-01-05' } },
    });
    expect(future.status).toBe(422);
    expect(fields(await problem(future))).toEqual(['ended.effective_date']);
    const badId = await t.call('POST', '/v1/registry/conflicts/not-a-uuid/resolve', {
      token: nation,
      body: {},
    });
    expect(fields(await problem(badId))).toContain('param.id');
    const unknown = await t.call('POST', `/v1/registry/conflicts/${randomUUID()}/resolve`, {
      token: nation,
      body: { keep: 'a', ended: base },
    });
    expect(unknown.status).toBe(404);

    const still = (await listAll<ReviewerItem>(0, 'national_admin', '&status=open')).find((c) => c.id === id);
    expect(still?.sides.map((s) => s.status)).toEqual(['registered', 'registered']);
  });

  it('the nation resolves a conflict between provinces, audited in the national chain', async () => {
    const id = await conflictId(national);
    const nation = await token(0, 'national_admin');
    const beijing = await t.call('POST', `/v1/registry/conflicts/${id}/resolve`, {
      token: await token(110000, 'province_admin'),
      body: {
        keep: 'a',
        ended: { kind: 'moved_out', effective_date: '2026-11-01', evidence_ref: '京鄂核查' },
      },
    });
    expect(beijing.status).toBe(404);
    const res = await t.call('POST', `/v1/registry/conflicts/${id}/resolve`, {
      token: nation,
      body: {
        keep: 'a', // 110101 (side a) keeps; the 420581 registration moves out to Beijing
        ended: {
          kind: 'moved_out',
          effective_date: '2026-11-01',
          evidence_ref: '京鄂核查',
          destination_code: 110101,
        },
      },
    });
    expect(res.status).toBe(200);
    expect((await json<ReviewerItem>(res)).sides.map((s) => [s.county_code, s.outcome, s.status])).toEqual([
      [110101, 'kept', 'registered'],
      [420581, 'ended', 'moved_out'],
    ]);
    const audit = await json<{ data: { division_code: number }[] }>(
      await t.call('GET', `/v1/audit-events?division=0&action=registry.conflict.resolve&entity_id=${id}`, {
        token: nation,
      }),
    );
    expect(audit.data.map((e) => e.division_code)).toEqual([0]);
  });

  it('only reviewers resolve: county roles and auditors → 403', async () => {
    const id = await conflictId(national);
    for (const [division, role] of [
      [420581, 'county_approver'],
      [420581, 'county_operator'],
      [0, 'auditor'],
    ] as const) {
      const res = await t.call('POST', `/v1/registry/conflicts/${id}/resolve`, {
        token: await token(division, role),
        body: {
          keep: 'a',
          ended: { kind: 'removed', reason: 'other', effective_date: '2026-01-01', evidence_ref: 'x' },
        },
      });
      expect(res.status, role).toBe(403);
    }
    const status = await t.call('GET', '/v1/registry/conflicts?status=closed', {
      token: await token(0, 'national_admin'),
    });
    expect(fields(await problem(status))).toEqual(['query.status']);
  });
});

// ── Oversight summary ──────────────────────────────────────────────────────────────────────────

interface SummaryCounts {
  registered: number;
  supported: number;
  deceased: number;
  moved_out: number;
  removed: number;
  households: number;
}
interface Summary {
  division: { code: number; name: string; level: string };
  group_by: string;
  on: string;
  rows: (SummaryCounts & { code: number; name: string })[];
  total: SummaryCounts;
}

describe('oversight summary', () => {
  let county: number;
  let v1: number;
  let v2: number;
  const zero = { registered: 0, supported: 0, deceased: 0, moved_out: 0, removed: 0, households: 0 };
  const before: Record<string, Summary> = {};

  const summary = async (query: string, division: number, role: Role) =>
    t.call('GET', `/v1/registry/summary?${query}`, { token: await token(division, role) });
  const get = async (query: string, division: number, role: Role) => {
    const res = await summary(query, division, role);
    expect(res.status, query).toBe(200);
    return json<Summary>(res);
  };
  const row = (s: Summary, code: number) => s.rows.find((r) => r.code === code);
  const minus = (a: SummaryCounts, b: SummaryCounts): SummaryCounts =>
    Object.fromEntries(
      Object.keys(zero).map((k) => [k, a[k as keyof SummaryCounts] - b[k as keyof SummaryCounts]]),
    ) as unknown as SummaryCounts;

  beforeAll(async () => {
    [county] = (await freshCounties(1)) as [number];
    const province = provinceOf(county);
    const city = cityOf(county);
    // Baselines above the county (a shared database may hold other data there).
    before.nation = await get('on=2026-07-01', 0, 'national_admin');
    before.province = await get('on=2026-07-01', province, 'province_admin');
    before.city = await get('on=2026-07-01', city, 'city_reviewer');

    const made = await makeTownship(t.db, county, 2);
    [v1, v2] = made.villages.map((v) => v.code) as [number, number];
    await bulkPersons(county, [
      // Village 1: household 1 moved in 2005 (window 2006-07-01 … 2026-06-30), household 2 in 2010.
      { household: 'h1', village: v1 },
      { household: 'h1', village: v1, relationship: 'spouse', sex: 'female' },
      { household: 'h1', village: v1, relationship: 'child' },
      { household: 'h2', village: v1, relocationDate: '2010-05-01' },
      { household: 'h2', village: v1, relationship: 'spouse', status: 'deceased' },
      { household: 'h3', village: v1, status: 'moved_out' },
      // Village 2: moved 2012, one moved the day after the cutoff (window to 2026-07-01), a removal,
      // and a household registered after the summary date.
      { household: 'h4', village: v2, relocationDate: '2012-01-01' },
      { household: 'h4', village: v2, relationship: 'spouse', relocationDate: '2012-01-01' },
      { household: 'h4', village: v2, relationship: 'parent', relocationDate: '2006-07-02' },
      {
        household: 'h4',
        village: v2,
        relationship: 'child',
        relocationDate: '2012-01-01',
        status: 'removed',
      },
      { household: 'h5', village: v2, relocationDate: '2026-12-01' },
    ]);
  });

  it('drills down province → city → county → village with exact numbers on a date', async () => {
    const province = provinceOf(county);
    const city = cityOf(county);
    const countyTotals = {
      registered: 8,
      supported: 4,
      deceased: 1,
      moved_out: 1,
      removed: 1,
      households: 4,
    };

    const nation = await get('on=2026-07-01', 0, 'national_admin');
    expect(nation.group_by).toBe('province');
    expect(minus(row(nation, province)!, row(before.nation!, province)!)).toEqual(countyTotals);
    expect(minus(nation.total, before.nation!.total)).toEqual(countyTotals);

    const p = await get('on=2026-07-01', province, 'province_admin');
    expect(p).toMatchObject({
      division: { code: province, level: 'province' },
      group_by: 'city',
      on: '2026-07-01',
    });
    expect(minus(row(p, city)!, row(before.province!, city)!)).toEqual(countyTotals);

    const c = await get('on=2026-07-01', city, 'city_reviewer');
    expect(c.group_by).toBe('county');
    expect(row(c, county)).toEqual({ code: county, name: expect.any(String), ...countyTotals });
    expect(minus(c.total, before.city!.total)).toEqual(countyTotals);

    const k = await get('on=2026-07-01', county, 'county_approver');
    expect(k).toMatchObject({ group_by: 'village', total: countyTotals });
    expect(k.rows).toEqual([
      {
        code: v1,
        name: expect.any(String),
        registered: 4,
        supported: 1,
        deceased: 1,
        moved_out: 1,
        removed: 0,
        households: 2,
      },
      {
        code: v2,
        name: expect.any(String),
        registered: 4,
        supported: 3,
        deceased: 0,
        moved_out: 0,
        removed: 1,
        households: 2,
      },
    ]);

    // The window edges: on 2026-06-30 the 2005 household is still supported, on 2026-07-02 the
    // person moved on 2006-07-02 no longer is.
    expect((await get('on=2026-06-30', county, 'county_approver')).total.supported).toBe(7);
    expect((await get('on=2026-07-02', county, 'county_approver')).total.supported).toBe(3);
    // Skipping levels: a province straight to villages is refused, to counties allowed.
    const counties = await get(`division=${province}&group_by=county&on=2026-07-01`, 0, 'national_admin');
    expect(minus(row(counties, county)!, zero)).toEqual(countyTotals);
    // Default date: the app clock's today.
    expect((await get('', county, 'county_approver')).on).toBe('2026-11-22');
  });

  it('every dictionary unit is a row (zeros too); counties under the 90 pseudo-city are rows of their own', async () => {
    const hubei = await get('on=2026-07-01', 420000, 'province_admin');
    const codes = hubei.rows.map((r) => r.code);
    expect(codes).toEqual(expect.arrayContaining([420100, 420500, 422800, 429004, 429005, 429006, 429021]));
    expect(codes).not.toContain(429000);
    expect(codes).not.toContain(420581);
    expect(row(hubei, 429004)?.name).toBe('仙桃市');
    const yichang = await get('on=2026-07-01', 420500, 'city_reviewer');
    expect(yichang.rows.map((r) => r.code)).toEqual(expect.arrayContaining([420581, 420582]));
    expect(yichang.division.name).toBe('宜昌市');
  });

  it('a division outside the scope → 404; a level not below → 400; a bad date → 400', async () => {
    for (const [query, division, role] of [
      ['division=420582', 420581, 'county_operator'],
      ['division=420100', 420500, 'city_reviewer'],
      ['division=420000', 420500, 'city_reviewer'],
      ['division=110000', 420000, 'province_admin'],
      ['division=420599', 420000, 'province_admin'],
    ] as const) {
      const res = await summary(query, division, role);
      expect(res.status, query).toBe(404);
      expect((await problem(res)).code).toBe('not_found');
    }
    for (const [query, division, role, field] of [
      ['group_by=province', 420500, 'city_reviewer', 'query.group_by'],
      ['group_by=city', 420500, 'city_reviewer', 'query.group_by'],
      ['group_by=village', 420000, 'province_admin', 'query.group_by'],
      ['group_by=town', 420000, 'province_admin', 'query.group_by'],
      ['on=2026-02-30', 420000, 'province_admin', 'query.on'],
      ['division=4205', 420000, 'province_admin', 'query.division'],
    ] as const) {
      const res = await summary(query, division, role);
      expect(res.status, query).toBe(400);
      expect(fields(await problem(res))).toEqual([field]);
    }
  });
});

describe('groupBy, the spelling of the issue, is group_by', () => {
  it('either spelling groups; two different values → 400 naming groupBy', async () => {
    const tokenCity = await token(420500, 'city_reviewer');
    const snake = await t.call('GET', '/v1/registry/summary?division=420500&group_by=county', {
      token: tokenCity,
    });
    const camel = await t.call('GET', '/v1/registry/summary?division=420500&groupBy=county', {
      token: tokenCity,
    });
    expect(snake.status).toBe(200);
    expect(camel.status).toBe(200);
    const [a, b] = [
      (await snake.json()) as { group_by: string },
      (await camel.json()) as { group_by: string },
    ];
    expect(b.group_by).toBe('county');
    expect(b).toEqual(a);
    const both = await t.call('GET', '/v1/registry/summary?division=420500&group_by=county&groupBy=village', {
      token: tokenCity,
    });
    expect(both.status).toBe(400);
    expect(fields(await problem(both))).toEqual(['query.groupBy']);
  });
});
