import { type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { rowsOf } from '../tenant.js';
import type { ProjectRouteStep } from './projects.js';
import type { DivisionRange } from './registry.js';

/*
 * Training 移民培训 (0008_training.sql): annual plans with their lines, providers, calls for bids and
 * bids, sessions and the persons trained. The rules live in packages/domain/src/training.ts and are
 * applied by the API; these functions only read and write. Fen cross the driver boundary as text.
 */

/** A step of a training plan's approval route: the same shape as a project's. */
export type TrainingRouteStep = ProjectRouteStep;

export interface TrainingHistoryEntry {
  seq: number;
  level: 'county' | 'city' | 'province';
  action: string;
  decision: string;
  comment: string | null;
  actor: string;
  actorDivision: number;
  at: string;
}

export interface TrainingPlanLineRow {
  kind: string;
  sessions: number;
  trainees: number;
  traineeTimes: number;
  courses: string[];
  budgetFen: number;
  spentFen: number;
}

export interface TrainingPlanRow {
  divisionCode: number;
  id: string;
  year: number;
  name: string;
  budgetFen: number;
  fundingLines: { source: string; amountFen: number }[];
  status: string;
  route: TrainingRouteStep[] | null;
  currentStep: number | null;
  history: TrainingHistoryEntry[];
  submittedAt: string | null;
  approvedAt: string | null;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedBy: string;
  updatedAt: string;
  countyName: string | null;
  lines: TrainingPlanLineRow[];
}

const ts = (column: string) =>
  sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

const KIND_ORDER = sql.raw("array_position(ARRAY['cadre','practical_skills'], l.kind)");

const planColumns = sql`p.division_code, p.id, p.year, p.name, p.budget_fen::text AS budget_fen,
  p.funding_lines::text AS funding_lines, p.status, p.route::text AS route, p.current_step,
  p.history::text AS history, ${ts('p.submitted_at')} AS submitted_at, ${ts('p.approved_at')} AS approved_at,
  p.version, p.created_by, ${ts('p.created_at')} AS created_at, p.updated_by, ${ts('p.updated_at')} AS updated_at,
  (SELECT d.name FROM divisions d WHERE d.code = p.division_code) AS county_name,
  (SELECT coalesce(json_agg(json_build_object('kind', l.kind, 'sessions', l.sessions, 'trainees', l.trainees,
            'trainee_times', l.trainee_times, 'courses', to_jsonb(l.courses), 'budget_fen', l.budget_fen::text,
            'spent_fen', l.spent_fen::text) ORDER BY ${KIND_ORDER}), '[]')::text
     FROM training_plan_lines l WHERE l.division_code = p.division_code AND l.plan_id = p.id) AS lines`;

function toPlan(r: Record<string, unknown>): TrainingPlanRow {
  const lines = json<
    {
      kind: string;
      sessions: number;
      trainees: number;
      trainee_times: number;
      courses: string[];
      budget_fen: string;
      spent_fen: string;
    }[]
  >(r.lines);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    divisionCode: Number(r.division_code),
    id: String(r.id),
    year: Number(r.year),
    name: String(r.name),
    budgetFen: Number(r.budget_fen),
    fundingLines: json<{ source: string; amount_fen: number }[]>(r.funding_lines).map((l) => ({
      source: l.source,
      amountFen: Number(l.amount_fen),
    })),
    status: String(r.status),
    route: r.route === null || r.route === undefined ? null : json<TrainingRouteStep[]>(r.route),
    currentStep: num(r.current_step),
    history: json<TrainingHistoryEntry[]>(r.history),
    submittedAt: (r.submitted_at as string | null) ?? null,
    approvedAt: (r.approved_at as string | null) ?? null,
    version: Number(r.version),
    createdBy: String(r.created_by),
    createdAt: String(r.created_at),
    updatedBy: String(r.updated_by),
    updatedAt: String(r.updated_at),
    countyName: (r.county_name as string | null) ?? null,
    lines: lines.map((l) => ({
      kind: l.kind,
      sessions: Number(l.sessions),
      trainees: Number(l.trainees),
      traineeTimes: Number(l.trainee_times),
      courses: l.courses,
      budgetFen: Number(l.budget_fen),
      spentFen: Number(l.spent_fen),
    })),
  };
}

export interface NewTrainingPlanLine {
  kind: string;
  sessions: number;
  trainees: number;
  traineeTimes: number;
  courses: readonly string[];
  budgetFen: number;
}

/** `{"a","b"}`: a text[] literal sent as one parameter (the same on both drivers). */
const textArray = (items: readonly string[]) =>
  `{${items.map((s) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;

/** Inserts a plan (draft); its lines follow with {@link replaceTrainingPlanLines}. */
export async function insertTrainingPlan(
  tx: Tx,
  p: {
    divisionCode: number;
    year: number;
    name: string;
    budgetFen: number;
    fundingLines: readonly { source: string; amountFen: number }[];
    createdBy: string;
  },
): Promise<string> {
  const [row] = rowsOf<{ id: string }>(
    await tx.execute(sql`INSERT INTO training_plans (division_code, year, name, budget_fen, funding_lines,
        created_by, updated_by)
      VALUES (${p.divisionCode}, ${p.year}, ${p.name}, ${p.budgetFen},
        ${JSON.stringify(p.fundingLines.map((l) => ({ source: l.source, amount_fen: l.amountFen })))}::jsonb,
        ${p.createdBy}, ${p.createdBy})
      ON CONFLICT (division_code, year) DO NOTHING
      RETURNING id`),
  );
  return row ? String(row.id) : '';
}

/** Replaces every line of a plan (a draft or returned plan: no session refers to them yet). */
export async function replaceTrainingPlanLines(
  tx: Tx,
  plan: Pick<TrainingPlanRow, 'divisionCode' | 'id'>,
  lines: readonly NewTrainingPlanLine[],
): Promise<void> {
  await tx.execute(sql`DELETE FROM training_plan_lines
    WHERE division_code = ${plan.divisionCode} AND plan_id = ${plan.id}::uuid`);
  for (const l of lines) {
    await tx.execute(sql`INSERT INTO training_plan_lines
        (division_code, plan_id, kind, sessions, trainees, trainee_times, courses, budget_fen)
      VALUES (${plan.divisionCode}, ${plan.id}::uuid, ${l.kind}, ${l.sessions}, ${l.trainees}, ${l.traineeTimes},
        ${textArray(l.courses)}::text[], ${l.budgetFen})`);
  }
}

/** One plan by id as far as the scope sees; `lock` takes the row lock (every change does). */
export async function getTrainingPlan(
  tx: Tx,
  id: string,
  options: { lock?: boolean } = {},
): Promise<TrainingPlanRow | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${planColumns} FROM training_plans p WHERE p.id = ${id}::uuid
      ${options.lock ? sql`FOR UPDATE OF p` : sql``}`),
  );
  return row ? toPlan(row) : undefined;
}

export interface TrainingPlanFilter {
  range: DivisionRange;
  county?: number | undefined;
  year?: number | undefined;
  status?: string | undefined;
  after?: { divisionCode: number; year: number } | undefined;
  limit: number;
}

/** Plans in a range, by county then year. */
export async function listTrainingPlans(tx: Tx, f: TrainingPlanFilter): Promise<TrainingPlanRow[]> {
  const where: SQL[] = [sql`p.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.county !== undefined) where.push(sql`p.division_code = ${f.county}`);
  if (f.year !== undefined) where.push(sql`p.year = ${f.year}`);
  if (f.status !== undefined) where.push(sql`p.status = ${f.status}`);
  if (f.after) where.push(sql`(p.division_code, p.year) > (${f.after.divisionCode}, ${f.after.year})`);
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${planColumns} FROM training_plans p WHERE ${sql.join(where, sql` AND `)}
      ORDER BY p.division_code, p.year LIMIT ${f.limit}`),
  );
  return rows.map(toPlan);
}

export interface TrainingPlanUpdate {
  name?: string;
  budgetFen?: number;
  fundingLines?: readonly { source: string; amountFen: number }[];
  status?: string;
  route?: TrainingRouteStep[] | null;
  currentStep?: number | null;
  submitted?: boolean;
  approved?: boolean;
  /** Appended to the history. */
  history?: Omit<TrainingHistoryEntry, 'seq' | 'at'>;
}

/** Applies `set`, bumps the version, records who changed it and appends to the history. */
export async function updateTrainingPlan(
  tx: Tx,
  plan: Pick<TrainingPlanRow, 'divisionCode' | 'id'>,
  set: TrainingPlanUpdate,
  by: string,
): Promise<void> {
  const parts: SQL[] = [sql`version = version + 1`, sql`updated_at = now()`, sql`updated_by = ${by}`];
  if (set.name !== undefined) parts.push(sql`name = ${set.name}`);
  if (set.budgetFen !== undefined) parts.push(sql`budget_fen = ${set.budgetFen}`);
  if (set.fundingLines !== undefined)
    parts.push(
      sql`funding_lines = ${JSON.stringify(set.fundingLines.map((l) => ({ source: l.source, amount_fen: l.amountFen })))}::jsonb`,
    );
  if (set.status !== undefined) parts.push(sql`status = ${set.status}`);
  if (set.route !== undefined)
    parts.push(sql`route = ${set.route === null ? null : JSON.stringify(set.route)}::jsonb`);
  if (set.currentStep !== undefined) parts.push(sql`current_step = ${set.currentStep}`);
  if (set.submitted) parts.push(sql`submitted_at = now()`);
  if (set.approved) parts.push(sql`approved_at = now()`);
  if (set.history) {
    const h = set.history;
    parts.push(sql`history = history || jsonb_build_array(jsonb_build_object('seq', jsonb_array_length(history) + 1,
      'level', ${h.level}::text, 'action', ${h.action}::text, 'decision', ${h.decision}::text,
      'comment', ${h.comment}::text, 'actor', ${h.actor}::text, 'actorDivision', ${h.actorDivision}::int,
      'at', ${ts('now()')}))`);
  }
  await tx.execute(sql`UPDATE training_plans SET ${sql.join(parts, sql`, `)}
    WHERE division_code = ${plan.divisionCode} AND id = ${plan.id}::uuid`);
}

/**
 * Adds `amountFen` to the spending of a plan line if it stays within the line's budget: one guarded
 * UPDATE (the row lock serialises concurrent writers; the second re-checks the condition on the row as
 * the first left it). Returns the new spending, or `undefined` when it would exceed the budget.
 */
export async function spendOnTrainingLine(
  tx: Tx,
  plan: Pick<TrainingPlanRow, 'divisionCode' | 'id'>,
  kind: string,
  amountFen: number,
): Promise<number | undefined> {
  const [row] = rowsOf<{ spent: string }>(
    await tx.execute(sql`UPDATE training_plan_lines SET spent_fen = spent_fen + ${amountFen}
      WHERE division_code = ${plan.divisionCode} AND plan_id = ${plan.id}::uuid AND kind = ${kind}
        AND spent_fen + ${amountFen} <= budget_fen
      RETURNING spent_fen::text AS spent`),
  );
  return row ? Number(row.spent) : undefined;
}

// ── Providers ───────────────────────────────────────────────────────────────────────────────────

export interface TrainingProviderRow {
  divisionCode: number;
  id: string;
  name: string;
  creditCode: string | null;
  contact: string | null;
  createdBy: string;
  createdAt: string;
}

const providerColumns = sql`v.division_code, v.id, v.name, v.credit_code, v.contact, v.created_by,
  ${ts('v.created_at')} AS created_at`;

const toProvider = (r: Record<string, unknown>): TrainingProviderRow => ({
  divisionCode: Number(r.division_code),
  id: String(r.id),
  name: String(r.name),
  creditCode: (r.credit_code as string | null) ?? null,
  contact: (r.contact as string | null) ?? null,
  createdBy: String(r.created_by),
  createdAt: String(r.created_at),
});

/** Inserts a provider; `undefined` when the county already has one of that name. */
export async function insertTrainingProvider(
  tx: Tx,
  p: {
    divisionCode: number;
    name: string;
    creditCode: string | null;
    contact: string | null;
    createdBy: string;
  },
): Promise<TrainingProviderRow | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`INSERT INTO training_providers AS v (division_code, name, credit_code, contact, created_by)
      VALUES (${p.divisionCode}, ${p.name}, ${p.creditCode}, ${p.contact}, ${p.createdBy})
      ON CONFLICT (division_code, name) DO NOTHING
      RETURNING ${providerColumns}`),
  );
  return row ? toProvider(row) : undefined;
}

export async function getTrainingProviders(tx: Tx, ids: readonly string[]): Promise<TrainingProviderRow[]> {
  if (ids.length === 0) return [];
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${providerColumns} FROM training_providers v
      WHERE v.id = ANY(${`{${ids.join(',')}}`}::uuid[])`),
  );
  return rows.map(toProvider);
}

export async function listTrainingProviders(
  tx: Tx,
  f: { range: DivisionRange; county?: number | undefined; after?: string | undefined; limit: number },
): Promise<TrainingProviderRow[]> {
  const where: SQL[] = [sql`v.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.county !== undefined) where.push(sql`v.division_code = ${f.county}`);
  if (f.after !== undefined) where.push(sql`v.id > ${f.after}::uuid`);
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${providerColumns} FROM training_providers v
      WHERE ${sql.join(where, sql` AND `)} ORDER BY v.id LIMIT ${f.limit}`),
  );
  return rows.map(toProvider);
}

// ── Calls for bids and bids ─────────────────────────────────────────────────────────────────────

export interface TrainingBidRow {
  id: string;
  providerId: string;
  providerName: string;
  pricePerTraineeFen: number;
  scores: { scheme: number; capacity: number; record: number };
  createdAt: string;
}

export interface TrainingCallRow {
  divisionCode: number;
  id: string;
  planId: string;
  kind: string;
  title: string;
  trainees: number;
  budgetFen: number;
  providers: number;
  status: string;
  selection: Record<string, unknown> | null;
  selectedAt: string | null;
  createdBy: string;
  createdAt: string;
  bids: TrainingBidRow[];
}

const callColumns = sql`c.division_code, c.id, c.plan_id, c.kind, c.title, c.trainees, c.budget_fen::text AS budget_fen,
  c.providers, c.status, c.selection::text AS selection, ${ts('c.selected_at')} AS selected_at, c.created_by,
  ${ts('c.created_at')} AS created_at,
  (SELECT coalesce(json_agg(json_build_object('id', b.id, 'provider_id', b.provider_id, 'provider_name', v.name,
            'price', b.price_per_trainee_fen::text, 'scheme', b.score_scheme, 'capacity', b.score_capacity,
            'record', b.score_record, 'created_at', ${ts('b.created_at')}) ORDER BY b.created_at, b.id), '[]')::text
     FROM training_bids b JOIN training_providers v ON v.division_code = b.division_code AND v.id = b.provider_id
     WHERE b.division_code = c.division_code AND b.call_id = c.id) AS bids`;

function toCall(r: Record<string, unknown>): TrainingCallRow {
  const bids = json<
    {
      id: string;
      provider_id: string;
      provider_name: string;
      price: string;
      scheme: number;
      capacity: number;
      record: number;
      created_at: string;
    }[]
  >(r.bids);
  return {
    divisionCode: Number(r.division_code),
    id: String(r.id),
    planId: String(r.plan_id),
    kind: String(r.kind),
    title: String(r.title),
    trainees: Number(r.trainees),
    budgetFen: Number(r.budget_fen),
    providers: Number(r.providers),
    status: String(r.status),
    selection:
      r.selection === null || r.selection === undefined ? null : json<Record<string, unknown>>(r.selection),
    selectedAt: (r.selected_at as string | null) ?? null,
    createdBy: String(r.created_by),
    createdAt: String(r.created_at),
    bids: bids.map((b) => ({
      id: b.id,
      providerId: b.provider_id,
      providerName: b.provider_name,
      pricePerTraineeFen: Number(b.price),
      scores: { scheme: Number(b.scheme), capacity: Number(b.capacity), record: Number(b.record) },
      createdAt: b.created_at,
    })),
  };
}

export async function insertTrainingCall(
  tx: Tx,
  c: {
    divisionCode: number;
    planId: string;
    kind: string;
    title: string;
    trainees: number;
    budgetFen: number;
    providers: number;
    createdBy: string;
  },
): Promise<string> {
  const [row] = rowsOf<{ id: string }>(
    await tx.execute(sql`INSERT INTO training_calls
        (division_code, plan_id, kind, title, trainees, budget_fen, providers, created_by)
      VALUES (${c.divisionCode}, ${c.planId}::uuid, ${c.kind}, ${c.title}, ${c.trainees}, ${c.budgetFen},
        ${c.providers}, ${c.createdBy})
      RETURNING id`),
  );
  if (!row) throw new Error('call not inserted');
  return String(row.id);
}

export async function getTrainingCall(
  tx: Tx,
  id: string,
  options: { lock?: boolean } = {},
): Promise<TrainingCallRow | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${callColumns} FROM training_calls c WHERE c.id = ${id}::uuid
      ${options.lock ? sql`FOR UPDATE OF c` : sql``}`),
  );
  return row ? toCall(row) : undefined;
}

/** Inserts a bid; `undefined` when the provider has already bid on the call. */
export async function insertTrainingBid(
  tx: Tx,
  b: {
    divisionCode: number;
    callId: string;
    providerId: string;
    pricePerTraineeFen: number;
    scores: { scheme: number; capacity: number; record: number };
    createdBy: string;
  },
): Promise<string | undefined> {
  const [row] = rowsOf<{ id: string }>(
    await tx.execute(sql`INSERT INTO training_bids
        (division_code, call_id, provider_id, price_per_trainee_fen, score_scheme, score_capacity, score_record,
         created_by)
      VALUES (${b.divisionCode}, ${b.callId}::uuid, ${b.providerId}::uuid, ${b.pricePerTraineeFen},
        ${b.scores.scheme}, ${b.scores.capacity}, ${b.scores.record}, ${b.createdBy})
      ON CONFLICT (division_code, call_id, provider_id) DO NOTHING
      RETURNING id`),
  );
  return row ? String(row.id) : undefined;
}

/** Records the selection of a call (open → selected). */
export async function recordTrainingSelection(
  tx: Tx,
  call: Pick<TrainingCallRow, 'divisionCode' | 'id'>,
  selection: Record<string, unknown>,
): Promise<void> {
  await tx.execute(sql`UPDATE training_calls SET status = 'selected', selection = ${JSON.stringify(selection)}::jsonb,
      selected_at = now()
    WHERE division_code = ${call.divisionCode} AND id = ${call.id}::uuid`);
}

/** The providers selected for a plan and kind by its calls. */
export async function selectedTrainingProviders(
  tx: Tx,
  plan: Pick<TrainingPlanRow, 'divisionCode' | 'id'>,
  kind: string,
): Promise<{ calls: number; providers: string[] }> {
  const rows = rowsOf<{ selection: string | null }>(
    await tx.execute(sql`SELECT selection::text AS selection FROM training_calls
      WHERE division_code = ${plan.divisionCode} AND plan_id = ${plan.id}::uuid AND kind = ${kind}
        AND status = 'selected'`),
  );
  return {
    calls: rows.length,
    providers: rows.flatMap((r) => json<{ selected?: string[] }>(r.selection ?? '{}').selected ?? []),
  };
}

// ── Sessions ────────────────────────────────────────────────────────────────────────────────────

export interface TrainingSessionRow {
  divisionCode: number;
  id: string;
  planId: string;
  kind: string;
  heldOn: string;
  place: string;
  providerId: string | null;
  course: string;
  trainees: number;
  materials: number;
  costFen: number;
  personIds: string[];
  createdBy: string;
  createdAt: string;
}

const sessionColumns = sql`s.division_code, s.id, s.plan_id, s.kind, s.held_on::text AS held_on, s.place,
  s.provider_id, s.course, s.trainees, s.materials, s.cost_fen::text AS cost_fen, s.created_by,
  ${ts('s.created_at')} AS created_at,
  (SELECT coalesce(json_agg(sp.person_id ORDER BY sp.person_id), '[]')::text FROM training_session_persons sp
     WHERE sp.division_code = s.division_code AND sp.session_id = s.id) AS person_ids`;

const toSession = (r: Record<string, unknown>): TrainingSessionRow => ({
  divisionCode: Number(r.division_code),
  id: String(r.id),
  planId: String(r.plan_id),
  kind: String(r.kind),
  heldOn: String(r.held_on),
  place: String(r.place),
  providerId: (r.provider_id as string | null) ?? null,
  course: String(r.course),
  trainees: Number(r.trainees),
  materials: Number(r.materials),
  costFen: Number(r.cost_fen),
  personIds: json<string[]>(r.person_ids),
  createdBy: String(r.created_by),
  createdAt: String(r.created_at),
});

export async function insertTrainingSession(
  tx: Tx,
  s: Omit<TrainingSessionRow, 'id' | 'createdAt'>,
): Promise<string> {
  const [row] = rowsOf<{ id: string }>(
    await tx.execute(sql`INSERT INTO training_sessions
        (division_code, plan_id, kind, held_on, place, provider_id, course, trainees, materials, cost_fen, created_by)
      VALUES (${s.divisionCode}, ${s.planId}::uuid, ${s.kind}, ${s.heldOn}::date, ${s.place}, ${s.providerId}::uuid,
        ${s.course}, ${s.trainees}, ${s.materials}, ${s.costFen}, ${s.createdBy})
      RETURNING id`),
  );
  if (!row) throw new Error('session not inserted');
  const id = String(row.id);
  for (const person of s.personIds) {
    await tx.execute(sql`INSERT INTO training_session_persons (division_code, session_id, person_id)
      VALUES (${s.divisionCode}, ${id}::uuid, ${person}::uuid)`);
  }
  return id;
}

/** Of `ids`, the persons registered in `county`. */
export async function countyPersonIds(tx: Tx, county: number, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = rowsOf<{ id: string }>(
    await tx.execute(sql`SELECT id::text AS id FROM persons
      WHERE division_code = ${county} AND id = ANY(${`{${ids.join(',')}}`}::uuid[])`),
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Serialises the writes of one session's attendance (a transaction-scoped advisory lock: the session
 * rows are never updated, so two imports of the same session wait for each other here instead).
 */
export async function lockTrainingSessionAttendance(
  tx: Tx,
  session: { divisionCode: number; id: string },
): Promise<void> {
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(7344, hashtext(${`${session.divisionCode}:${session.id}`}))`,
  );
}

/** The persons of `county` holding these ID lookup hashes, by hash (hex): id and name. */
export async function countyPersonsByIdHash(
  tx: Tx,
  county: number,
  hashes: readonly Buffer[],
): Promise<Map<string, { id: string; name: string }>> {
  if (hashes.length === 0) return new Map();
  const rows = rowsOf<{ h: string; id: string; name: string }>(
    await tx.execute(sql`SELECT encode(id_hash, 'hex') AS h, id::text AS id, name FROM persons
      WHERE division_code = ${county}
        AND id_hash = ANY(SELECT decode(x, 'hex') FROM unnest(${`{${hashes.map((b) => b.toString('hex')).join(',')}}`}::text[]) AS x)`),
  );
  return new Map(rows.map((r) => [r.h, { id: r.id, name: r.name }]));
}

/** Links persons to a session (those linked already are left as they are); returns how many were new. */
export async function linkTrainingSessionPersons(
  tx: Tx,
  session: { divisionCode: number; id: string },
  personIds: readonly string[],
): Promise<number> {
  if (personIds.length === 0) return 0;
  const rows = rowsOf<{ person_id: string }>(
    await tx.execute(sql`INSERT INTO training_session_persons (division_code, session_id, person_id)
      SELECT ${session.divisionCode}, ${session.id}::uuid, p FROM unnest(${`{${personIds.join(',')}}`}::uuid[]) AS p
      ON CONFLICT DO NOTHING RETURNING person_id`),
  );
  return rows.length;
}

export async function getTrainingSession(tx: Tx, id: string): Promise<TrainingSessionRow | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${sessionColumns} FROM training_sessions s WHERE s.id = ${id}::uuid`),
  );
  return row ? toSession(row) : undefined;
}

export async function listTrainingSessions(
  tx: Tx,
  f: {
    range: DivisionRange;
    planId?: string | undefined;
    after?: { heldOn: string; id: string } | undefined;
    limit: number;
  },
): Promise<TrainingSessionRow[]> {
  const where: SQL[] = [sql`s.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.planId !== undefined) where.push(sql`s.plan_id = ${f.planId}::uuid`);
  if (f.after) where.push(sql`(s.held_on, s.id) > (${f.after.heldOn}::date, ${f.after.id}::uuid)`);
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${sessionColumns} FROM training_sessions s WHERE ${sql.join(where, sql` AND `)}
      ORDER BY s.held_on, s.id LIMIT ${f.limit}`),
  );
  return rows.map(toSession);
}

// ── Oversight ───────────────────────────────────────────────────────────────────────────────────

export interface TrainingProgressRow {
  divisionCode: number;
  countyName: string | null;
  planId: string;
  status: string;
  plannedSessions: number;
  plannedTraineeTimes: number;
  budgetFen: number;
  doneSessions: number;
  doneTraineeTimes: number;
  spentFen: number;
}

/** Plan vs done per county for a year: planned from the lines, done from the sessions up to `on`. */
export async function trainingProgressRows(
  tx: Tx,
  f: { range: DivisionRange; year: number; on: string },
): Promise<TrainingProgressRow[]> {
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT p.division_code, (SELECT d.name FROM divisions d WHERE d.code = p.division_code)
        AS county_name, p.id AS plan_id, p.status,
        (SELECT coalesce(sum(l.sessions), 0)::text FROM training_plan_lines l
          WHERE l.division_code = p.division_code AND l.plan_id = p.id) AS planned_sessions,
        (SELECT coalesce(sum(l.trainee_times), 0)::text FROM training_plan_lines l
          WHERE l.division_code = p.division_code AND l.plan_id = p.id) AS planned_times,
        p.budget_fen::text AS budget_fen,
        (SELECT count(*)::text FROM training_sessions s
          WHERE s.division_code = p.division_code AND s.plan_id = p.id AND s.held_on <= ${f.on}::date) AS done_sessions,
        (SELECT coalesce(sum(s.trainees), 0)::text FROM training_sessions s
          WHERE s.division_code = p.division_code AND s.plan_id = p.id AND s.held_on <= ${f.on}::date) AS done_times,
        (SELECT coalesce(sum(s.cost_fen), 0)::text FROM training_sessions s
          WHERE s.division_code = p.division_code AND s.plan_id = p.id AND s.held_on <= ${f.on}::date) AS spent
      FROM training_plans p
      WHERE p.division_code BETWEEN ${f.range.lo} AND ${f.range.hi} AND p.year = ${f.year}
      ORDER BY p.division_code`),
  );
  return rows.map((r) => ({
    divisionCode: Number(r.division_code),
    countyName: (r.county_name as string | null) ?? null,
    planId: String(r.plan_id),
    status: String(r.status),
    plannedSessions: Number(r.planned_sessions),
    plannedTraineeTimes: Number(r.planned_times),
    budgetFen: Number(r.budget_fen),
    doneSessions: Number(r.done_sessions),
    doneTraineeTimes: Number(r.done_times),
    spentFen: Number(r.spent),
  }));
}
