import type { KeyStore, Logger, TokenSettings } from '@houfu/api';
import {
  approveBatch,
  createAppJobRunner,
  createBatch,
  createImport,
  createPerson,
  projectImplementationService,
  projectsService,
  recordPersonEvent,
  signUserToken,
  trainingService,
} from '@houfu/api';
import {
  type Database,
  getDivisions,
  getPaymentBatch,
  listHouseholds,
  listLocalities,
  listPaymentBatches,
  listPersons,
  listProjects,
  listTrainingPlans,
  registeredCountOn,
  type Sealer,
  type Tx,
  withDivision,
} from '@houfu/db';
import { NATION, type Role, roleDefinitions } from '@houfu/domain';
import { csvLine, SYNTHETIC_HEADERS, syntheticRows } from './synthetic.js';

/** Demo tenants: 湖北省 → 宜昌市 → 宜都市, 当阳市, 枝江市. */
export const DEMO_PROVINCE = 420000;
export const DEMO_CITY = 420500;
export const DEMO_COUNTIES = [420581, 420582, 420583] as const;

/** One dev token per demo role. */
export const DEMO_USERS: readonly { role: Role; division: number; sub: string; name: string }[] = [
  { role: 'county_operator', division: 420581, sub: 'demo:yidu.operator', name: '宜都经办员' },
  { role: 'county_approver', division: 420581, sub: 'demo:yidu.approver', name: '宜都审核员' },
  { role: 'county_operator', division: 420582, sub: 'demo:dangyang.operator', name: '当阳经办员' },
  { role: 'city_reviewer', division: DEMO_CITY, sub: 'demo:yichang.reviewer', name: '宜昌审核员' },
  { role: 'province_admin', division: DEMO_PROVINCE, sub: 'demo:hubei.admin', name: '湖北管理员' },
  { role: 'auditor', division: DEMO_PROVINCE, sub: 'demo:hubei.auditor', name: '湖北审计员' },
  { role: 'national_admin', division: NATION, sub: 'demo:national.admin', name: '国家管理员' },
];

export interface DevToken {
  role: Role;
  label: string;
  division: number;
  divisionName: string;
  token: string;
}

export async function devTokens(
  db: Database,
  keys: KeyStore,
  settings: TokenSettings,
  ttlSeconds: number,
): Promise<DevToken[]> {
  const names = new Map(
    (
      await withDivision(db, NATION, (tx) =>
        getDivisions(
          tx,
          DEMO_USERS.map((u) => u.division),
        ),
      )
    ).map((d) => [d.code, d.name]),
  );
  return Promise.all(
    DEMO_USERS.map(async (u) => ({
      role: u.role,
      label: roleDefinitions[u.role].label,
      division: u.division,
      divisionName: names.get(u.division) ?? String(u.division),
      token: await signUserToken(keys, settings, {
        sub: u.sub,
        division: u.division,
        roles: [u.role],
        name: u.name,
        ttlSeconds,
      }),
    })),
  );
}

/** Households per demo county (about 3.5 persons each). */
const DEMO_HOUSEHOLDS = 300;
/** The reservoirs the demo counties' resettlers were moved for. */
const DEMO_RESERVOIRS: Record<number, readonly string[]> = {
  420581: ['高坝洲水库', '隔河岩水库'],
  420582: ['巩河水库'],
  420583: ['三峡水库'],
};

/**
 * The registry of each demo county that has none yet, loaded the way a county clerk would: a CSV
 * file (synthetic, deterministic) through the import pipeline, then a few status events (deaths,
 * a removal) and, in 当阳市, one person also registered in 宜都市 so the city has a conflict to review.
 */
export async function seedDemoRegistry(
  db: Database,
  sealer: Sealer,
  logger: Logger,
): Promise<{ county: number; imported: number }[]> {
  const now = () => new Date();
  const out: { county: number; imported: number }[] = [];
  for (const county of DEMO_COUNTIES) {
    const existing = await withDivision(db, county, (tx) => listPersons(tx, { county, limit: 1 }));
    if (existing.length > 0) continue;
    const villages = await withDivision(db, county, (tx) =>
      listLocalities(tx, { county, level: 'village', active: true, limit: 50 }),
    );
    if (villages.length === 0) continue;
    let csv = csvLine(SYNTHETIC_HEADERS);
    for (const row of syntheticRows({
      county,
      villages: villages.map((v) => v.code),
      households: DEMO_HOUSEHOLDS,
      reservoirs: DEMO_RESERVOIRS[county],
    })) {
      csv += csvLine(SYNTHETIC_HEADERS.map((h) => row[h]));
    }
    const actor = { sub: 'system:demo', kind: 'system' as const, division: county };
    await withDivision(db, county, (tx) =>
      createImport(
        { tx, actor, requestId: null, now: now(), queue: undefined },
        {
          body: new Blob([csv]).stream(),
          maxBytes: csv.length * 4,
          format: 'csv',
          charset: undefined,
          mediaType: 'text/csv',
          filename: `demo-${county}.csv`,
        },
      ),
    );
    await createAppJobRunner({ db, sealer, logger, now }).runUntilIdle();
    const persons = await withDivision(db, county, (tx) => listPersons(tx, { county, limit: 40 }));
    const ctx = (tx: Tx) => ({ tx, actor, requestId: null, now: now(), sealer });
    for (const [i, person] of persons.slice(0, 6).entries()) {
      await withDivision(db, county, (tx) =>
        recordPersonEvent(ctx(tx), {
          personId: person.id,
          kind: i === 5 ? 'removed' : 'death',
          effectiveDate: `2024-0${i + 1}-15`,
          reason: i === 5 ? 'civil_servant' : undefined,
          evidenceRef: i === 5 ? `录用通知 2024-${i}` : `死亡证明 2024-${100 + i}`,
        }),
      );
    }
    if (county === 420582) await registerTwin(db, sealer, actor, ctx);
    out.push({
      county,
      imported: await withDivision(db, county, (tx) => registeredCountOn(tx, county, '9999-12-31')),
    });
  }
  return out;
}

/** A 宜都市 resettler registered again in 当阳市: a conflict for 宜昌市 to resolve. */
async function registerTwin(
  db: Database,
  sealer: Sealer,
  actor: { sub: string; kind: 'system'; division: number },
  ctx: (tx: Tx) => Parameters<typeof createPerson>[0],
) {
  const [original] = await withDivision(db, 420581, (tx) =>
    listPersons(tx, { county: 420581, status: 'registered', limit: 1 }),
  );
  const [household] = await withDivision(db, actor.division, (tx) =>
    listHouseholds(tx, { county: actor.division, limit: 1 }),
  );
  if (!original || !household) return;
  await withDivision(db, actor.division, (tx) =>
    createPerson(ctx(tx), {
      household_id: household.id,
      relationship: 'other',
      name: original.name,
      national_id: sealer.open(original.idSealed),
      reservoir: original.reservoir,
      relocation_date: original.relocationDate,
      relocatee_kind: original.relocateeKind,
    }),
  );
}

/**
 * Demo payments 直补: in each demo county just imported (and no batch yet), the 2026-H1 batch prepared,
 * computed and approved by two different (system) users, and the 2026-H2 batch left as a draft for
 * the dev county approver to review and approve. Returns the batches made.
 */
export async function seedDemoPayments(
  db: Database,
  sealer: Sealer,
  logger: Logger,
  /** The counties whose demo registry was just imported (a database with other data is left alone). */
  counties: readonly number[],
): Promise<{ county: number; batchNo: string; status: string; lines: number }[]> {
  const now = () => new Date();
  const out: { county: number; batchNo: string; status: string; lines: number }[] = [];
  for (const county of counties) {
    const ctx = (tx: Tx, sub: string) => ({
      tx,
      actor: { sub, kind: 'system' as const, division: county },
      requestId: null,
      now: now(),
      queue: undefined,
    });
    const existing = await withDivision(db, county, (tx) =>
      listPaymentBatches(tx, { range: { lo: county, hi: county }, county, limit: 1 }),
    );
    const persons = await withDivision(db, county, (tx) => listPersons(tx, { county, limit: 1 }));
    if (existing.length > 0 || persons.length === 0) continue;
    for (const period of ['2026-H1', '2026-H2']) {
      const batch = await withDivision(db, county, (tx) =>
        createBatch(ctx(tx, 'system:demo-clerk'), { period, kind: 'regular' }),
      );
      await createAppJobRunner({ db, sealer, logger, now }).runUntilIdle();
      let made = await withDivision(db, county, (tx) => getPaymentBatch(tx, batch.id));
      if (period === '2026-H1' && made?.contentHash) {
        const hash = made.contentHash;
        made = await withDivision(db, county, (tx) =>
          approveBatch(ctx(tx, 'system:demo-approver'), batch.id, { contentHash: hash, note: '演示数据' }),
        );
      }
      if (made) out.push({ county, batchNo: made.batchNo, status: made.status, lines: made.lineCount });
    }
  }
  await seedDemoProjects(db, counties);
  await seedDemoTraining(db, counties);
  return out;
}

/**
 * Demo post-support projects 后扶项目 (called by {@link seedDemoPayments}): in 宜都市, when it was just
 * seeded and has no project yet, the province allocates 1,000万 of post-support funds for this year and
 * the county has five projects — one in the library, one planned, the seed's 3,285.44万 road submitted
 * and awaiting the city's review, a 40万 canal approved by the city (the province's 备案 pending, 40万
 * committed) and being built — a contract, progress at 60% and the schedule's first two payments (10%
 * on contract, 40% at half done: 20万 paid) — and one returned for correction.
 */
export async function seedDemoProjects(db: Database, counties: readonly number[]): Promise<number> {
  const county = DEMO_COUNTIES[0];
  if (!counties.includes(county)) return 0;
  const existing = await withDivision(db, county, (tx) =>
    listProjects(tx, { range: { lo: county, hi: county }, county, limit: 1 }),
  );
  if (existing.length > 0) return 0;
  const villages = await withDivision(db, county, (tx) =>
    listLocalities(tx, { county, level: 'village', active: true, limit: 5 }),
  );
  if (villages.length === 0) return 0;
  const now = new Date();
  const day = (ago: number) => new Date(now.getTime() - ago * 86_400_000).toISOString().slice(0, 10);
  const year = now.getUTCFullYear();
  const as = (division: number, sub: string) => (tx: Tx) => ({
    tx,
    actor: { sub, kind: 'system' as const, division },
    requestId: null,
    now,
  });
  const clerk = as(county, 'system:demo-clerk');
  const city = as(DEMO_CITY, 'system:demo-city');
  await withDivision(db, DEMO_PROVINCE, (tx) =>
    projectsService.createAllocation(as(DEMO_PROVINCE, 'system:demo-province')(tx), {
      county,
      source: 'post_support',
      year,
      amountFen: 1_000_000_000,
      documentNo: `鄂移〔${year}〕8号`,
      allocatedOn: day(60),
      note: '演示数据',
    }),
  );
  const wan = 1_000_000;
  const project = (name: string, lines: [string, number][], village: number, posted: boolean) =>
    withDivision(db, county, (tx) =>
      projectsService.createProject(clerk(tx), {
        name,
        category: 'infrastructure',
        batchNo: null,
        year,
        townshipCode: null,
        villageCodes: [villages[village % villages.length]?.code as number],
        description: '演示数据',
        plannedOutputs: {},
        beneficiariesFarmers: 300,
        beneficiariesMigrants: 120,
        totalFen: lines.reduce((a, [, f]) => a + f, 0),
        fundingLines: lines.map(([source, amountFen]) => ({ source: source as 'post_support', amountFen })),
        postingFrom: posted ? day(40) : null,
        postingTo: posted ? day(30) : null,
        postingPlace: posted ? '村务公开栏' : null,
      }),
    );
  const step = (id: string, what: 'plan' | 'submit') =>
    withDivision(db, county, (tx) =>
      what === 'plan'
        ? projectsService.planProject(clerk(tx), id)
        : projectsService.submitProject(clerk(tx), id, null),
    );
  const review = (id: string, action: 'approve' | 'return', comment: string | null) =>
    withDivision(db, DEMO_CITY, (tx) =>
      projectsService.reviewProject(city(tx), id, { action, comment, step: undefined }),
    );

  await project('村级文化广场', [['self_raised', 20 * wan]], 0, false);
  const planned = await project(
    '排灌沟渠整治',
    [
      ['post_support', 30 * wan],
      ['integrated', 10 * wan],
    ],
    1,
    true,
  );
  await step(planned.id, 'plan');
  const road = await project(
    '移民村道路硬化工程',
    [
      ['post_support', 800 * wan],
      ['integrated', 1_358.96 * wan],
      ['self_raised', 1_126.48 * wan],
    ],
    2,
    true,
  );
  await step(road.id, 'plan');
  await step(road.id, 'submit');
  const canal = await project('生产便道及渠系配套', [['post_support', 40 * wan]], 3, true);
  await step(canal.id, 'plan');
  await step(canal.id, 'submit');
  await review(canal.id, 'approve', '同意');
  await withDivision(db, county, async (tx) => {
    const ctx = clerk(tx);
    const contract = await projectImplementationService.createContract(ctx, canal.id, {
      contractor: '宜都市水利建筑工程有限公司',
      contractNo: `YD-${year}-QX-01`,
      amountFen: 40 * wan,
      signedOn: day(25),
    });
    await projectImplementationService.reportProgress(ctx, canal.id, {
      reportedOn: day(5),
      investmentCompletedFen: 24 * wan,
      percentComplete: 60,
      achievedOutputs: {},
      villageCodes: canal.villageCodes,
      comment: '演示数据',
    });
    // Paid by the county approver, not the clerk who reports progress (segregation of duties).
    const pay = (stage: 'contract' | 'half_done', amountFen: number, ago: number, n: number) =>
      projectImplementationService.recordPayment(as(county, 'system:demo-approver')(tx), canal.id, {
        contractId: contract.id,
        fundingLineId: canal.fundingLines[0]?.id as string,
        stage,
        amountFen,
        paidOn: day(ago),
        reference: `宜都报账〔${year}〕演示${n}号`,
      });
    await pay('contract', 4 * wan, 20, 1);
    await pay('half_done', 16 * wan, 4, 2);
  });
  const returned = await project(
    '饮水安全巩固提升',
    [
      ['post_support', 60 * wan],
      ['self_raised', 15 * wan],
    ],
    4,
    true,
  );
  await step(returned.id, 'plan');
  await step(returned.id, 'submit');
  await review(returned.id, 'return', '请补充水源论证材料');
  return 5;
}

/**
 * Demo training 移民培训: in 宜都市, when it has no training plan for this year, a 38万 annual plan
 * (practical skills 30万 for 400 trainees, cadres 8万 for 100) approved by the city (the province's
 * 备案 pending), a provider and one practical-skills session of 90 trainees held today (6.3万 spent).
 */
export async function seedDemoTraining(db: Database, counties: readonly number[]): Promise<number> {
  const county = DEMO_COUNTIES[0];
  if (!counties.includes(county)) return 0;
  const now = new Date();
  const year = now.getUTCFullYear();
  const existing = await withDivision(db, county, (tx) =>
    listTrainingPlans(tx, { range: { lo: county, hi: county }, county, year, limit: 1 }),
  );
  if (existing.length > 0) return 0;
  const as = (division: number, sub: string) => (tx: Tx) => ({
    tx,
    actor: { sub, kind: 'system' as const, division },
    requestId: null,
    now,
  });
  const clerk = as(county, 'system:demo-clerk');
  const wan = 1_000_000;
  const plan = await withDivision(db, county, (tx) =>
    trainingService.createPlan(clerk(tx), {
      year,
      name: `${year}年度移民培训计划`,
      lines: [
        {
          kind: 'practical_skills',
          sessions: 10,
          trainees: 400,
          traineeTimes: 900,
          courses: ['柑桔栽培', '蔬菜生产', '水产养殖'],
          budgetFen: 30 * wan,
        },
        {
          kind: 'cadre',
          sessions: 1,
          trainees: 100,
          traineeTimes: 100,
          courses: ['移民政策'],
          budgetFen: 8 * wan,
        },
      ],
      fundingLines: [{ source: 'post_support', amountFen: 38 * wan }],
    }),
  );
  await withDivision(db, county, (tx) => trainingService.submitPlan(clerk(tx), plan.id, null));
  await withDivision(db, DEMO_CITY, (tx) =>
    trainingService.reviewPlan(as(DEMO_CITY, 'system:demo-city')(tx), plan.id, {
      action: 'approve',
      comment: '同意',
      step: undefined,
    }),
  );
  const provider = await withDivision(db, county, (tx) =>
    trainingService.createProvider(clerk(tx), {
      name: '宜都市农业技术推广中心',
      creditCode: null,
      contact: null,
    }),
  );
  await withDivision(db, county, (tx) =>
    trainingService.createSession(clerk(tx), {
      planId: plan.id,
      kind: 'practical_skills',
      heldOn: now.toISOString().slice(0, 10),
      place: '红花套镇农技站',
      providerId: provider.id,
      course: '柑桔栽培',
      trainees: 90,
      personIds: [],
      materials: 100,
      costFen: 6_300_000,
    }),
  );
  return 1;
}
