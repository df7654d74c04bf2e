import type { RouteHandler } from '@hono/zod-openapi';
import {
  listTrainingPlans,
  listTrainingProviders,
  listTrainingSessions,
  type TrainingCallRow,
  type TrainingPlanRow,
  type TrainingProviderRow,
  type TrainingSessionRow,
} from '@houfu/db';
import {
  approvalStepLabel,
  costPerTraineeFen,
  type DoubleHalfResult,
  type FundingSource,
  isWithin,
  scopeOf,
  type TrainingKind,
  trainingKindLabels,
  trainingProgress,
} from '@houfu/domain';
import ExcelJS from 'exceljs';
import type { Context as HonoContext } from 'hono';
import { z } from 'zod';
import { today } from '../../lib/dates.js';
import { etagOf } from '../../lib/etag.js';
import { contentDisposition } from '../../lib/files.js';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import { ApiError } from '../../lib/problem.js';
import { serviceContext as requestContext } from '../../lib/service-context.js';
import type { AppEnv } from '../../lib/types.js';
import {
  idempotencyKeyOf,
  lockIdempotencyKey,
  rememberIdempotent,
  replayIdempotent,
} from '../../middleware/idempotency.js';
import { mediaOf, XLSX_TYPE } from '../imports/imports.reader.js';
import { importFingerprint, pumpBody, tooLarge } from '../imports/imports.service.js';
import {
  ATTENDANCE_MAX_BYTES,
  attendanceColumns,
  attendanceReasonLabels,
  importAttendance,
} from './training.attendance.js';
import type * as routes from './training.routes.js';
import * as service from './training.service.js';

const serviceContext = (c: HonoContext<AppEnv>): service.Context => ({
  tx: c.var.tx,
  actor: { sub: c.var.principal.sub, kind: c.var.principal.kind, division: c.var.principal.division },
  requestId: c.var.requestId,
  now: c.var.deps.now(),
});

type PlanStatus = 'draft' | 'submitted' | 'returned' | 'approved';

export const toPlan = (p: TrainingPlanRow) => ({
  id: p.id,
  county_code: p.divisionCode,
  county_name: p.countyName,
  year: p.year,
  name: p.name,
  budget_fen: p.budgetFen,
  spent_fen: p.lines.reduce((a, l) => a + l.spentFen, 0),
  lines: p.lines.map((l) => ({
    kind: l.kind as TrainingKind,
    label: trainingKindLabels[l.kind as TrainingKind],
    sessions: l.sessions,
    trainees: l.trainees,
    trainee_times: l.traineeTimes,
    courses: l.courses,
    budget_fen: l.budgetFen,
    spent_fen: l.spentFen,
    cost_per_trainee_fen: l.trainees > 0 ? costPerTraineeFen(l.budgetFen, l.trainees) : 0,
  })),
  funding_lines: p.fundingLines.map((l) => ({ source: l.source as FundingSource, amount_fen: l.amountFen })),
  status: p.status as PlanStatus,
  locked: p.status === 'submitted' || p.status === 'approved',
  route:
    p.route?.map((s, index) => ({
      index,
      level: s.level,
      action: s.action,
      scope: s.scope ?? null,
      label: approvalStepLabel(s),
      state:
        p.currentStep === null
          ? p.status === 'returned'
            ? ('pending' as const)
            : ('done' as const)
          : index < p.currentStep
            ? ('done' as const)
            : index === p.currentStep
              ? ('current' as const)
              : ('pending' as const),
    })) ?? null,
  current_step: p.currentStep,
  history: p.history.map((h) => ({
    seq: h.seq,
    level: h.level,
    action: h.action,
    decision: h.decision,
    comment: h.comment,
    actor: h.actor,
    actor_division: h.actorDivision,
    at: h.at,
  })),
  submitted_at: p.submittedAt,
  approved_at: p.approvedAt,
  version: p.version,
  created_by: p.createdBy,
  created_at: p.createdAt,
  updated_by: p.updatedBy,
  updated_at: p.updatedAt,
});

const toProvider = (v: TrainingProviderRow) => ({
  id: v.id,
  county_code: v.divisionCode,
  name: v.name,
  credit_code: v.creditCode,
  contact: v.contact,
  created_by: v.createdBy,
  created_at: v.createdAt,
});

interface StoredSelection {
  selected: string[];
  ranking: {
    rank: number;
    providerId: string;
    providerName: string | null;
    pricePerTraineeFen: number;
    pointsHundredths: Record<string, number>;
    totalScore: string;
    selected: boolean;
    reason: string;
  }[];
  disqualified: { providerId: string; providerName: string | null; reason: string; message: string }[];
  minBids: number;
  weights: Record<string, number>;
  rulesSource: string;
  perTraineeCapFen: number;
  on: string;
}

const toCall = (c: TrainingCallRow) => {
  const s = c.selection as StoredSelection | null;
  return {
    id: c.id,
    county_code: c.divisionCode,
    plan_id: c.planId,
    kind: c.kind as TrainingKind,
    title: c.title,
    trainees: c.trainees,
    budget_fen: c.budgetFen,
    providers: c.providers,
    status: c.status as 'open' | 'selected',
    bids: c.bids.map((b) => ({
      id: b.id,
      provider_id: b.providerId,
      provider_name: b.providerName,
      price_per_trainee_fen: b.pricePerTraineeFen,
      scores: b.scores,
      created_at: b.createdAt,
    })),
    selection: s
      ? {
          selected: s.selected,
          ranking: s.ranking.map((r) => ({
            rank: r.rank,
            provider_id: r.providerId,
            provider_name: r.providerName,
            price_per_trainee_fen: r.pricePerTraineeFen,
            points_hundredths: r.pointsHundredths,
            total_score: r.totalScore,
            selected: r.selected,
            reason: r.reason,
          })),
          disqualified: s.disqualified.map((d) => ({
            provider_id: d.providerId,
            provider_name: d.providerName,
            reason: d.reason,
            message: d.message,
          })),
          min_bids: s.minBids,
          weights: s.weights,
          rules_source: s.rulesSource,
          per_trainee_cap_fen: s.perTraineeCapFen,
          on: s.on,
        }
      : null,
    selected_at: c.selectedAt,
    created_by: c.createdBy,
    created_at: c.createdAt,
  };
};

const toSession = (s: TrainingSessionRow) => ({
  id: s.id,
  county_code: s.divisionCode,
  plan_id: s.planId,
  kind: s.kind as TrainingKind,
  held_on: s.heldOn,
  place: s.place,
  provider_id: s.providerId,
  course: s.course,
  trainees: s.trainees,
  person_ids: s.personIds,
  materials: s.materials,
  cost_fen: s.costFen,
  created_by: s.createdBy,
  created_at: s.createdAt,
});

const planInput = (b: {
  name: string;
  lines: {
    kind: TrainingKind;
    sessions: number;
    trainees: number;
    trainee_times: number;
    courses: string[];
    budget_fen: number;
  }[];
  funding_lines: { source: FundingSource; amount_fen: number }[];
}) => ({
  name: b.name,
  lines: b.lines.map((l) => ({
    kind: l.kind,
    sessions: l.sessions,
    trainees: l.trainees,
    traineeTimes: l.trainee_times,
    courses: l.courses,
    budgetFen: l.budget_fen,
  })),
  fundingLines: b.funding_lines.map((l) => ({ source: l.source, amountFen: l.amount_fen })),
});

export const createPlan: RouteHandler<typeof routes.createTrainingPlan, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const plan = await service.createPlan(serviceContext(c), { year: b.year, ...planInput(b) });
  return c.json(toPlan(plan), 201, {
    location: `/v1/training-plans/${plan.id}`,
    etag: etagOf(plan.version),
  });
};

const planCursor = z.tuple([z.number().int(), z.number().int()]);

export const listPlans: RouteHandler<typeof routes.listTrainingPlans, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, planCursor);
  const rows = await listTrainingPlans(c.var.tx, {
    range: scopeOf(c.var.principal.division),
    county: q.county,
    year: q.year,
    status: q.status,
    after: after ? { divisionCode: after[0], year: after[1] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toPlan, (p) => [p.divisionCode, p.year]),
    200,
  );
};

export const getPlan: RouteHandler<typeof routes.getTrainingPlan, AppEnv> = async (c) => {
  const plan = await service.planInScope(c.var.tx, c.req.valid('param').id);
  return c.json(toPlan(plan), 200, { etag: etagOf(plan.version) });
};

export const replacePlan: RouteHandler<typeof routes.replaceTrainingPlan, AppEnv> = async (c) => {
  const plan = await service.replacePlan(
    serviceContext(c),
    c.req.valid('param').id,
    c.req.valid('header')['if-match'],
    planInput(c.req.valid('json')),
  );
  return c.json(toPlan(plan), 200, { etag: etagOf(plan.version) });
};

export const submitPlan: RouteHandler<typeof routes.submitTrainingPlan, AppEnv> = async (c) => {
  const body = (c.req.valid('json') ?? {}) as { comment?: string };
  const plan = await service.submitPlan(serviceContext(c), c.req.valid('param').id, body.comment ?? null);
  return c.json(toPlan(plan), 200);
};

export const reviewPlan: RouteHandler<typeof routes.reviewTrainingPlan, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const plan = await service.reviewPlan(serviceContext(c), c.req.valid('param').id, {
    action: b.action,
    comment: b.comment ?? null,
    step: b.step,
  });
  return c.json(toPlan(plan), 200);
};

export const createProvider: RouteHandler<typeof routes.createTrainingProvider, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const provider = await service.createProvider(serviceContext(c), {
    name: b.name,
    creditCode: b.credit_code ?? null,
    contact: b.contact ?? null,
  });
  return c.json(toProvider(provider), 201);
};

export const listProviders: RouteHandler<typeof routes.listTrainingProviders, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, z.uuid());
  const rows = await listTrainingProviders(c.var.tx, {
    range: scopeOf(c.var.principal.division),
    county: q.county,
    after,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toProvider, (v) => v.id),
    200,
  );
};

export const createCall: RouteHandler<typeof routes.createTrainingCall, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const call = await service.createCall(serviceContext(c), {
    planId: b.plan_id,
    kind: b.kind,
    title: b.title,
    trainees: b.trainees,
    budgetFen: b.budget_fen,
    providers: b.providers,
  });
  return c.json(toCall(call), 201);
};

export const getCall: RouteHandler<typeof routes.getTrainingCall, AppEnv> = async (c) => {
  const call = await service.callInScope(c.var.tx, c.req.valid('param').id);
  return c.json(toCall(call), 200);
};

export const createBid: RouteHandler<typeof routes.createTrainingBid, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const call = await service.createBid(serviceContext(c), c.req.valid('param').id, {
    providerId: b.provider_id,
    pricePerTraineeFen: b.price_per_trainee_fen,
    scores: b.scores,
  });
  return c.json(toCall(call), 201);
};

export const selectProviders: RouteHandler<typeof routes.selectTrainingProviders, AppEnv> = async (c) => {
  const call = await service.selectCall(serviceContext(c), c.req.valid('param').id);
  return c.json(toCall(call), 200);
};

export const createSession: RouteHandler<typeof routes.createTrainingSession, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const session = await service.createSession(serviceContext(c), {
    planId: b.plan_id,
    kind: b.kind,
    heldOn: b.held_on,
    place: b.place,
    providerId: b.provider_id ?? null,
    course: b.course,
    trainees: b.trainees,
    personIds: b.person_ids ?? [],
    materials: b.materials ?? 0,
    costFen: b.cost_fen,
  });
  return c.json(toSession(session), 201);
};

const sessionCursor = z.tuple([z.string().max(10), z.uuid()]);

export const listSessions: RouteHandler<typeof routes.listTrainingSessions, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, sessionCursor);
  const rows = await listTrainingSessions(c.var.tx, {
    range: scopeOf(c.var.principal.division),
    planId: q.plan_id,
    after: after ? { heldOn: after[0], id: after[1] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toSession, (s) => [s.heldOn, s.id]),
    200,
  );
};

export const getSession: RouteHandler<typeof routes.getTrainingSession, AppEnv> = async (c) => {
  const session = await service.sessionInScope(c.var.tx, c.req.valid('param').id);
  return c.json(toSession(session), 200);
};

export const importAttendanceList: RouteHandler<typeof routes.importTrainingAttendance, AppEnv> = async (
  c,
) => {
  const { id } = c.req.valid('param');
  const media = mediaOf(c.req.header('content-type'));
  const key = idempotencyKeyOf(c, false);
  const declared = c.req.header('content-length');
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > ATTENDANCE_MAX_BYTES) {
    throw tooLarge(ATTENDANCE_MAX_BYTES);
  }
  const parts: Buffer[] = [];
  const file = await pumpBody(c.req.raw.body, ATTENDANCE_MAX_BYTES, async (chunk) => {
    parts.push(chunk);
  });
  if (file.size === 0) {
    throw new ApiError('validation_failed', 'The file is empty.', [
      { field: 'body', message: 'Empty file', code: 'too_small' },
    ]);
  }
  const path = new URL(c.req.url).pathname;
  const fingerprint = importFingerprint(path, file.sha256, media.key);
  const { principal } = c.var;
  const scope = key ? { division: principal.division, principal: principal.sub, key } : undefined;
  if (scope) {
    const previous = await lockIdempotencyKey(c.var.tx, scope);
    if (previous) return replayIdempotent(c, previous, fingerprint) as never;
  }
  const result = await importAttendance(requestContext(c), id, {
    bytes: Buffer.concat(parts, file.size),
    format: media.format,
    charset: media.charset,
    sha256: file.sha256,
  });
  const res = c.json(
    {
      session_id: result.session.id,
      format: result.format,
      counts: result.counts,
      trainees: result.session.trainees,
      persons_linked: result.session.personIds.length,
      rows: result.rows.map((r) => ({
        row: r.row,
        name: r.name,
        national_id_masked: r.nationalIdMasked,
        outcome: r.outcome,
        reason: r.reason,
        national_id_error: r.nationalIdError,
        message: r.reason === null ? null : attendanceReasonLabels[r.reason],
        person_id: r.personId,
      })),
    },
    200,
  );
  if (scope) await rememberIdempotent(c, scope, fingerprint, res);
  return res;
};

async function attendanceTemplateXlsx(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'houfu';
  const sheet = wb.addWorksheet('参训人员');
  sheet.columns = attendanceColumns.map((col) => ({
    header: col.header,
    key: col.key,
    width: col.key === 'national_id' ? 24 : 14,
    style: col.key === 'national_id' ? { numFmt: '@' } : {},
  }));
  sheet.getRow(1).font = { bold: true };
  sheet.views = [{ state: 'frozen', ySplit: 1 }];
  const help = wb.addWorksheet('说明');
  help.columns = [
    { header: '列名', key: 'header', width: 14 },
    { header: '必填', key: 'required', width: 8 },
    { header: '说明', key: 'description', width: 80 },
  ];
  for (const col of attendanceColumns) {
    help.addRow({ header: col.header, required: col.required ? '是' : '否', description: col.description });
  }
  help.addRow({});
  help.addRow({
    header: '文件',
    description:
      '第一个工作表的第一行为表头，列的顺序不限，其他列忽略；空行跳过。按身份证号在本县移民名册中查找，姓名须一致；关联人数不能超过本期参训人数。',
  });
  help.getRow(1).font = { bold: true };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export const attendanceTemplate: RouteHandler<typeof routes.getTrainingAttendanceTemplate, AppEnv> = async (
  c,
) => {
  const { format } = c.req.valid('query');
  if (format === 'csv') {
    return c.body(`\uFEFF${attendanceColumns.map((col) => col.header).join(',')}\r\n`, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': contentDisposition('参训人员名单模板.csv', 'training-attendance-template.csv'),
    }) as never;
  }
  const file = await attendanceTemplateXlsx();
  return c.body(new Uint8Array(file), 200, {
    'content-type': XLSX_TYPE,
    'content-disposition': contentDisposition('参训人员名单模板.xlsx', 'training-attendance-template.xlsx'),
  }) as never;
};

const measure = (planned: number, done: number, r: DoubleHalfResult) => ({
  planned,
  done,
  time_percent: r.timePercent,
  done_percent: r.donePercent,
  on_track: r.onTrack,
  double_half: r.doubleHalf,
});

const wireMeasure = { sessions: 'sessions', traineeTimes: 'trainee_times', spendFen: 'spend_fen' } as const;

export const report: RouteHandler<typeof routes.trainingReport, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const division = c.var.principal.division;
  if (q.county !== undefined && !isWithin(q.county, division)) {
    throw new ApiError('not_found', `Division ${q.county} is not in your scope.`);
  }
  const on = q.on ?? today(c.var.deps.now());
  const year = q.year ?? Number(today(c.var.deps.now()).slice(0, 4));
  const rows = await service.progressReport(c.var.tx, scopeOf(q.county ?? division), year, on);
  const start = `${year}-01-01`;
  const end = `${year}-12-31`;
  const at = on < start ? start : on > end ? end : on;
  const sum = (k: 'planned' | 'done', m: 'sessions' | 'traineeTimes' | 'spendFen') =>
    rows.reduce((a, r) => a + r[k][m], 0);
  const planned = {
    sessions: sum('planned', 'sessions'),
    traineeTimes: sum('planned', 'traineeTimes'),
    spendFen: sum('planned', 'spendFen'),
  };
  const done = {
    sessions: sum('done', 'sessions'),
    traineeTimes: sum('done', 'traineeTimes'),
    spendFen: sum('done', 'spendFen'),
  };
  const total = trainingProgress({ start, end, on: at, planned, done });
  return c.json(
    {
      year,
      on: at,
      data: rows.map(({ row, planned: p, done: d, progress }) => ({
        county_code: row.divisionCode,
        county_name: row.countyName,
        plan_id: row.planId,
        status: row.status as PlanStatus,
        sessions: measure(p.sessions, d.sessions, progress.measures.sessions),
        trainee_times: measure(p.traineeTimes, d.traineeTimes, progress.measures.traineeTimes),
        spend_fen: measure(p.spendFen, d.spendFen, progress.measures.spendFen),
        double_half: progress.doubleHalf,
        behind: progress.behind.map((m) => wireMeasure[m]),
      })),
      total: {
        sessions: measure(planned.sessions, done.sessions, total.measures.sessions),
        trainee_times: measure(planned.traineeTimes, done.traineeTimes, total.measures.traineeTimes),
        spend_fen: measure(planned.spendFen, done.spendFen, total.measures.spendFen),
        double_half: total.doubleHalf,
      },
    },
    200,
  );
};
