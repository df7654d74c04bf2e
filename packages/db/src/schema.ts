import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  date as dateColumn,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * Drizzle mirror of the SQL migrations in ../migrations (the migrations are the source of truth for
 * DDL, RLS and grants; this file gives query functions their types). A test compares the two.
 */

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** 行政区划 — the GB/T 2260 division dictionary (shared reference data, no RLS). */
export const divisions = pgTable('divisions', {
  code: integer('code').primaryKey(),
  name: text('name').notNull(),
  level: text('level', { enum: ['nation', 'province', 'city', 'county'] }).notNull(),
  parentCode: integer('parent_code'),
});

/** 乡镇/街道 and 村/社区 of a county (tenant data owned by the county). */
export const localities = pgTable(
  'localities',
  {
    divisionCode: integer('division_code').notNull(),
    code: bigint('code', { mode: 'number' }).notNull(),
    level: text('level', { enum: ['township', 'village'] }).notNull(),
    townshipCode: bigint('township_code', { mode: 'number' }).notNull(),
    name: text('name').notNull(),
    source: text('source', { enum: ['dictionary', 'local'] }).notNull(),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
    updatedAt: timestamptz('updated_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.code] })],
);

/** 审计日志 — append-only, hash-chained per division. */
export const auditEvents = pgTable(
  'audit_events',
  {
    divisionCode: integer('division_code').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    occurredAt: timestamptz('occurred_at').notNull(),
    actorSub: text('actor_sub').notNull(),
    actorKind: text('actor_kind', { enum: ['user', 'client', 'system'] }).notNull(),
    actorDivision: integer('actor_division').notNull(),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    changes: jsonb('changes').$type<Record<string, unknown>>().notNull(),
    requestId: text('request_id'),
    outcome: text('outcome', { enum: ['success', 'failure'] }).notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.seq] })],
);

export const auditHeads = pgTable('audit_heads', {
  divisionCode: integer('division_code').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
});

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    divisionCode: integer('division_code').notNull(),
    /** The caller's subject: keys are scoped to one caller within a division. */
    principal: text('principal').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    responseStatus: integer('response_status').notNull(),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>().notNull(),
    responseBody: text('response_body').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.principal, t.key] })],
);

/** Integrator clients (第三方系统): secrets stored as scrypt hashes. */
export const apiClients = pgTable(
  'api_clients',
  {
    divisionCode: integer('division_code').notNull(),
    clientId: text('client_id').notNull(),
    name: text('name').notNull(),
    secretHash: text('secret_hash').notNull(),
    scopes: text('scopes').array().notNull(),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    lockedUntil: timestamptz('locked_until'),
    revokedAt: timestamptz('revoked_at'),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.clientId] })],
);

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});
const date = (name: string) => dateColumn(name, { mode: 'string' });

/** 户 — a household of a county, settled in one of its villages. */
export const households = pgTable(
  'households',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    householdNo: text('household_no').notNull(),
    villageCode: bigint('village_code', { mode: 'number' }).notNull(),
    version: integer('version').notNull().default(1),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
    updatedAt: timestamptz('updated_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** 移民 — one registration of a person in a county (ID and bank account sealed, hashed and masked). */
export const persons = pgTable(
  'persons',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    householdId: uuid('household_id').notNull(),
    relationship: text('relationship', {
      enum: [
        'head',
        'spouse',
        'child',
        'child_in_law',
        'grandchild',
        'parent',
        'grandparent',
        'sibling',
        'other',
      ],
    }).notNull(),
    name: text('name').notNull(),
    idHash: bytea('id_hash').notNull(),
    idSealed: bytea('id_sealed').notNull(),
    idMasked: text('id_masked').notNull(),
    sex: text('sex', { enum: ['male', 'female'] }).notNull(),
    birthDate: date('birth_date').notNull(),
    reservoir: text('reservoir').notNull(),
    relocationDate: date('relocation_date').notNull(),
    relocateeKind: text('relocatee_kind', { enum: ['original', 'other'] }).notNull(),
    registeredOn: date('registered_on').notNull(),
    bankName: text('bank_name'),
    bankAccountSealed: bytea('bank_account_sealed'),
    bankAccountMasked: text('bank_account_masked'),
    status: text('status', { enum: ['registered', 'deceased', 'moved_out', 'removed'] })
      .notNull()
      .default('registered'),
    importId: uuid('import_id'),
    version: integer('version').notNull().default(1),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
    updatedAt: timestamptz('updated_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** 人口变动 — dated status events with evidence (append-only). */
export const personEvents = pgTable(
  'person_events',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    personId: uuid('person_id').notNull(),
    kind: text('kind', {
      enum: ['moved_in', 'death', 'moved_out', 'removed', 're_registered', 'correction'],
    }).notNull(),
    effectiveDate: date('effective_date').notNull(),
    reason: text('reason', { enum: ['civil_servant', 'non_agricultural_hukou', 'imprisonment', 'other'] }),
    destinationCode: integer('destination_code'),
    destinationNote: text('destination_note'),
    originCode: integer('origin_code'),
    correctsId: uuid('corrects_id'),
    evidenceRef: text('evidence_ref').notNull(),
    note: text('note'),
    recordedAt: timestamptz('recorded_at').notNull().default(sql`now()`),
    recordedBy: text('recorded_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** Background jobs (imports, later payment batches), leased by one runner at a time. */
export const jobs = pgTable(
  'jobs',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    kind: text('kind').notNull(),
    status: text('status', { enum: ['queued', 'running', 'succeeded', 'failed'] })
      .notNull()
      .default('queued'),
    phase: text('phase'),
    progressDone: bigint('progress_done', { mode: 'number' }).notNull().default(0),
    progressTotal: bigint('progress_total', { mode: 'number' }),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    checkpoint: jsonb('checkpoint').$type<Record<string, unknown>>().notNull().default({}),
    result: jsonb('result').$type<Record<string, unknown>>(),
    error: jsonb('error').$type<{ code: string; message: string }>(),
    attempts: integer('attempts').notNull().default(0),
    leaseUntil: timestamptz('lease_until'),
    createdBy: text('created_by').notNull(),
    createdByKind: text('created_by_kind', { enum: ['user', 'client', 'system'] }).notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
    updatedAt: timestamptz('updated_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** Uploaded files, kept in chunks so jobs can stream them after a restart. */
export const uploads = pgTable(
  'uploads',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    sha256: text('sha256'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull().default(0),
    mediaType: text('media_type').notNull(),
    filename: text('filename'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

export const uploadChunks = pgTable(
  'upload_chunks',
  {
    divisionCode: integer('division_code').notNull(),
    uploadId: uuid('upload_id').notNull(),
    seq: integer('seq').notNull(),
    data: bytea('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.uploadId, t.seq] })],
);

/** 批量导入 — a registry import of one county. */
export const imports = pgTable(
  'imports',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    jobId: uuid('job_id').notNull(),
    uploadId: uuid('upload_id').notNull(),
    format: text('format', { enum: ['csv', 'xlsx'] }).notNull(),
    status: text('status', {
      enum: ['queued', 'staging', 'checking', 'applying', 'completed', 'failed'],
    })
      .notNull()
      .default('queued'),
    rowsTotal: integer('rows_total'),
    rowsAccepted: integer('rows_accepted'),
    rowsRejected: integer('rows_rejected'),
    error: jsonb('error').$type<{ code: string; message: string }>(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
    completedAt: timestamptz('completed_at'),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

export const importRows = pgTable(
  'import_rows',
  {
    divisionCode: integer('division_code').notNull(),
    importId: uuid('import_id').notNull(),
    rowNo: integer('row_no').notNull(),
    householdNo: text('household_no'),
    relationship: text('relationship'),
    name: text('name'),
    idHash: bytea('id_hash'),
    idSealed: bytea('id_sealed'),
    idMasked: text('id_masked'),
    sex: text('sex'),
    birthDate: date('birth_date'),
    reservoir: text('reservoir'),
    relocationDate: date('relocation_date'),
    relocateeKind: text('relocatee_kind'),
    villageCode: bigint('village_code', { mode: 'number' }),
    bankName: text('bank_name'),
    bankAccountSealed: bytea('bank_account_sealed'),
    bankAccountMasked: text('bank_account_masked'),
    errors: text('errors').array().notNull().default(sql`'{}'`),
    warnings: text('warnings').array().notNull().default(sql`'{}'`),
    personId: uuid('person_id'),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.importId, t.rowNo] })],
);

/** 年度核定 — a county's submitted verification of one year. */
export const registryVerifications = pgTable(
  'registry_verifications',
  {
    divisionCode: integer('division_code').notNull(),
    year: integer('year').notNull(),
    previousCount: integer('previous_count').notNull(),
    previousSource: text('previous_source', { enum: ['verification', 'records'] }).notNull(),
    deaths: integer('deaths').notNull(),
    removals: jsonb('removals').$type<Record<string, number>>().notNull(),
    movedOut: integer('moved_out').notNull(),
    movedIn: integer('moved_in').notNull(),
    reRegistered: integer('re_registered').notNull(),
    verifiedCount: integer('verified_count').notNull(),
    note: text('note'),
    submittedBy: text('submitted_by').notNull(),
    submittedAt: timestamptz('submitted_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.year] })],
);

/** Cross-county conflicts, owned by the lowest division that sees both counties. */
export const registryConflicts = pgTable(
  'registry_conflicts',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    idHash: bytea('id_hash').notNull(),
    idMasked: text('id_masked').notNull(),
    countyA: integer('county_a').notNull(),
    personA: uuid('person_a').notNull(),
    countyB: integer('county_b').notNull(),
    personB: uuid('person_b').notNull(),
    status: text('status', { enum: ['open', 'resolved'] })
      .notNull()
      .default('open'),
    detectedAt: timestamptz('detected_at').notNull().default(sql`now()`),
    resolvedAt: timestamptz('resolved_at'),
    resolvedBy: text('resolved_by'),
    resolution: jsonb('resolution').$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** A county's side of a conflict: its own person only. */
export const registryConflictSides = pgTable(
  'registry_conflict_sides',
  {
    divisionCode: integer('division_code').notNull(),
    conflictId: uuid('conflict_id').notNull(),
    personId: uuid('person_id').notNull(),
    reviewerDivision: integer('reviewer_division').notNull(),
    status: text('status', { enum: ['open', 'resolved'] })
      .notNull()
      .default('open'),
    outcome: text('outcome', { enum: ['kept', 'ended'] }),
    detectedAt: timestamptz('detected_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.conflictId] })],
);

export type PersonRow = typeof persons.$inferSelect;
export type HouseholdRow = typeof households.$inferSelect;
export type PersonEventRow = typeof personEvents.$inferSelect;

/** 后扶项目 — a county's post-support project (0005_projects.sql). */
export const projects = pgTable(
  'projects',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    projectNo: text('project_no').notNull(),
    name: text('name').notNull(),
    category: text('category').notNull(),
    batchNo: text('batch_no'),
    year: integer('year').notNull(),
    townshipCode: bigint('township_code', { mode: 'number' }),
    villageCodes: bigint('village_codes', { mode: 'number' }).array().notNull(),
    description: text('description'),
    plannedOutputs: jsonb('planned_outputs').$type<Record<string, number>>().notNull().default({}),
    beneficiariesFarmers: integer('beneficiaries_farmers').notNull().default(0),
    beneficiariesMigrants: integer('beneficiaries_migrants').notNull().default(0),
    totalFen: bigint('total_fen', { mode: 'number' }).notNull(),
    postingFrom: dateColumn('posting_from', { mode: 'string' }),
    postingTo: dateColumn('posting_to', { mode: 'string' }),
    postingPlace: text('posting_place'),
    status: text('status').notNull().default('library'),
    route: jsonb('route').$type<unknown[]>(),
    currentStep: integer('current_step'),
    submittedAt: timestamptz('submitted_at'),
    approvedAt: timestamptz('approved_at'),
    approvedFingerprint: text('approved_fingerprint'),
    committedYear: integer('committed_year'),
    cancelledAt: timestamptz('cancelled_at'),
    version: integer('version').notNull().default(1),
    createdBy: text('created_by').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
    updatedBy: text('updated_by').notNull(),
    updatedAt: timestamptz('updated_at').notNull().default(sql`now()`),
    acceptanceRoute: jsonb('acceptance_route').$type<string[]>(),
    acceptanceStep: integer('acceptance_step'),
    completedAt: timestamptz('completed_at'),
    acceptedAt: timestamptz('accepted_at'),
    assetName: text('asset_name'),
    assetMaintainer: text('asset_maintainer'),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** 资金来源 — one funding line of a project per source. */
export const projectFundingLines = pgTable(
  'project_funding_lines',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    projectId: uuid('project_id').notNull(),
    source: text('source').notNull(),
    amountFen: bigint('amount_fen', { mode: 'number' }).notNull(),
    committedFen: bigint('committed_fen', { mode: 'number' }).notNull().default(0),
    paidFen: bigint('paid_fen', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** 审批记录 — a project's approval history (append-only). */
export const projectReviews = pgTable(
  'project_reviews',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    projectId: uuid('project_id').notNull(),
    seq: integer('seq').notNull(),
    stepIndex: integer('step_index'),
    level: text('level'),
    action: text('action').notNull(),
    decision: text('decision').notNull(),
    comment: text('comment'),
    actor: text('actor').notNull(),
    actorDivision: integer('actor_division').notNull(),
    at: timestamptz('at').notNull().default(sql`now()`),
    changes: jsonb('changes').$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** 进度报告 — cumulative progress of a project (0006_project_implementation.sql; append-only). */
export const projectProgressReports = pgTable(
  'project_progress_reports',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    projectId: uuid('project_id').notNull(),
    seq: integer('seq').notNull(),
    reportedOn: dateColumn('reported_on', { mode: 'string' }).notNull(),
    investmentCompletedFen: bigint('investment_completed_fen', { mode: 'number' }).notNull(),
    percentComplete: integer('percent_complete').notNull(),
    achievedOutputs: jsonb('achieved_outputs').$type<Record<string, number>>().notNull().default({}),
    villageCodes: bigint('village_codes', { mode: 'number' }).array().notNull(),
    comment: text('comment'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** 施工合同 — a contract of a project with a contractor. */
export const projectContracts = pgTable(
  'project_contracts',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    projectId: uuid('project_id').notNull(),
    contractor: text('contractor').notNull(),
    contractNo: text('contract_no').notNull(),
    amountFen: bigint('amount_fen', { mode: 'number' }).notNull(),
    signedOn: dateColumn('signed_on', { mode: 'string' }).notNull(),
    paidFen: bigint('paid_fen', { mode: 'number' }).notNull().default(0),
    createdBy: text('created_by').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** 工程款支付 — a payment to a contractor charged to a funding line (append-only). */
export const projectPayments = pgTable(
  'project_payments',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    projectId: uuid('project_id').notNull(),
    contractId: uuid('contract_id').notNull(),
    fundingLineId: uuid('funding_line_id').notNull(),
    stage: text('stage').notNull(),
    amountFen: bigint('amount_fen', { mode: 'number' }).notNull(),
    paidOn: dateColumn('paid_on', { mode: 'string' }).notNull(),
    reference: text('reference').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** 验收记录 — one completion acceptance stage acted on (append-only). */
export const projectAcceptances = pgTable(
  'project_acceptances',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    projectId: uuid('project_id').notNull(),
    seq: integer('seq').notNull(),
    stage: text('stage').notNull(),
    result: text('result').notNull(),
    checks: jsonb('checks').$type<Record<string, unknown>>().notNull(),
    flags: jsonb('flags').$type<unknown[]>().notNull().default([]),
    comment: text('comment'),
    participants: text('participants'),
    assetName: text('asset_name'),
    assetMaintainer: text('asset_maintainer'),
    actor: text('actor').notNull(),
    actorDivision: integer('actor_division').notNull(),
    at: timestamptz('at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** 资金下达 — an allocation to a county (append-only). */
export const fundAllocations = pgTable(
  'fund_allocations',
  {
    divisionCode: integer('division_code').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    provinceCode: integer('province_code').notNull(),
    source: text('source').notNull(),
    year: integer('year').notNull(),
    amountFen: bigint('amount_fen', { mode: 'number' }).notNull(),
    documentNo: text('document_no').notNull(),
    allocatedOn: dateColumn('allocated_on', { mode: 'string' }).notNull(),
    note: text('note'),
    createdBy: text('created_by').notNull(),
    createdByDivision: integer('created_by_division').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.id] })],
);

/** 资金结存 — a county's balance of one source and year. */
export const fundBalances = pgTable(
  'fund_balances',
  {
    divisionCode: integer('division_code').notNull(),
    source: text('source').notNull(),
    year: integer('year').notNull(),
    allocatedFen: bigint('allocated_fen', { mode: 'number' }).notNull().default(0),
    committedFen: bigint('committed_fen', { mode: 'number' }).notNull().default(0),
    paidFen: bigint('paid_fen', { mode: 'number' }).notNull().default(0),
    updatedAt: timestamptz('updated_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.divisionCode, t.source, t.year] })],
);
