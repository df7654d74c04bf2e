import {
  aidChildHash,
  aidedSchoolYears,
  appendAudit,
  countyLocalities,
  getPerson,
  getVocationalAidApplication,
  insertVocationalAidApplication,
  lockAidChild,
  type Tx,
  updateVocationalAidApplication,
  type VocationalAidApplication,
} from '@houfu/db';
import {
  canAidTransition,
  checkVocationalAid,
  divisionLevel,
  maskNationalId,
  parseNationalId,
  postingCheck,
  postingProblemLabels,
  type VocationalAidStatus,
  type VocationalAidViolation,
  type VocationalLevel,
  vocationalAidRulesParameter,
  vocationalAidStatusLabels,
} from '@houfu/domain';
import { today } from '../../lib/dates.js';
import { loadPolicyValue } from '../../lib/policy.js';
import { ApiError, type FieldError } from '../../lib/problem.js';
import type { ServiceContext } from '../../lib/service-context.js';

/** What the aid services need from a request. */
export type Context = ServiceContext;

// ── Helpers ─────────────────────────────────────────────────────────────────────────────────────

function audit(ctx: Context, app: { divisionCode: number; id: string }, action: string, changes: object) {
  return appendAudit(ctx.tx, {
    division: app.divisionCode,
    occurredAt: ctx.now,
    actor: ctx.actor,
    action,
    entityType: 'vocational_aid_application',
    entityId: app.id,
    changes: Object.fromEntries(
      Object.entries(changes).map(([k, v]) => [
        k,
        v !== null && typeof v === 'object' && 'old' in v && 'new' in v
          ? (v as { old: unknown; new: unknown })
          : { old: null, new: v },
      ]),
    ),
    requestId: ctx.requestId,
  });
}

const statusChange = (from: string, to: string) => ({ old: from, new: to });

/** An application the caller's scope sees, else 404 (the same answer as one that does not exist). */
export async function applicationInScope(
  tx: Tx,
  id: string,
  options: { lock?: boolean } = {},
): Promise<VocationalAidApplication> {
  const app = await getVocationalAidApplication(tx, id, options);
  if (!app) throw new ApiError('not_found', `Vocational aid application ${id} was not found.`);
  return app;
}

/** An application of the caller's own county (others may read it, never act on it), locked. */
async function ownApplication(ctx: Context, id: string): Promise<VocationalAidApplication> {
  const app = await applicationInScope(ctx.tx, id, { lock: true });
  if (app.divisionCode !== ctx.actor.division) {
    throw new ApiError('not_found', `Vocational aid application ${id} was not found.`);
  }
  return app;
}

function requireTransition(app: VocationalAidApplication, to: VocationalAidStatus, wanted: string): void {
  const from = app.status as VocationalAidStatus;
  if (!canAidTransition(from, to)) {
    throw new ApiError(
      'conflict',
      `Vocational aid application ${app.id} is ${from} (${vocationalAidStatusLabels[from]}); ${wanted}.`,
    );
  }
}

/** The request field each rule of checkVocationalAid is about. */
const violationField: Record<VocationalAidViolation['code'], string> = {
  not_migrant_child: 'parent_person_id',
  age_below_minimum: 'child_national_id',
  age_above_maximum: 'child_national_id',
  already_aided_this_year: 'school_year',
  duration_exceeded: 'school_year',
  amount_below_level_minimum: 'requested_fen',
  amount_above_level_maximum: 'requested_fen',
  cost_unknown: 'recognised_cost_fen',
  amount_above_cost_share: 'recognised_cost_fen',
};

function rejectViolations(
  violations: VocationalAidViolation[],
  source: string,
  amountField: string,
  intro: string,
): void {
  if (violations.length === 0) return;
  const errors: FieldError[] = violations.map((v) => {
    const field = violationField[v.code];
    return {
      field: field === 'requested_fen' || v.code === 'amount_above_cost_share' ? amountField : field,
      message: v.message,
      code: v.code,
    };
  });
  throw new ApiError(
    'unprocessable',
    `${intro} (${source}): ${violations.map((v) => v.message).join('; ')}.`,
    errors,
  );
}

// ── Applications ─────────────────────────────────────────────────────────────────────────────────

export interface ApplicationInput {
  villageCode: number;
  childName: string;
  childNationalId: string;
  parentPersonId: string | null;
  school: string;
  level: VocationalLevel;
  schoolYear: number;
  recognisedCostFen: number | null;
  requestedFen: number;
}

/**
 * Enters an application 申请 (status `applied`) in the caller's county: the child's ID validated (birth
 * date derived from it), sealed, hashed and masked; the village of the county; the parent a person
 * registered in the county; every rule of `training.vocational_aid` in force today checked with
 * checkVocationalAid, the age on today (the application date), the years already paid to the child in
 * the county counted by the ID hash. One live application per child and school year (409).
 */
export async function createApplication(
  ctx: Context,
  input: ApplicationInput,
): Promise<VocationalAidApplication> {
  const county = ctx.actor.division;
  if (divisionLevel(county) !== 'county') {
    throw new ApiError('forbidden', 'Aid applications are entered by the county bureau of the child’s home.');
  }
  const on = today(ctx.now);
  const parsed = parseNationalId(input.childNationalId, on);
  if (!parsed.ok) {
    throw new ApiError('validation_failed', 'The child’s national ID number is not valid.', [
      { field: 'child_national_id', message: `Invalid ID number (${parsed.error})`, code: parsed.error },
    ]);
  }
  const errors: FieldError[] = [];
  const [village] = await countyLocalities(ctx.tx, county, [input.villageCode]);
  if (village?.level !== 'village' || !village.active) {
    errors.push({
      field: 'village_code',
      message: `${input.villageCode} is not an active village of county ${county}`,
      code: 'unknown_village',
    });
  }
  let parentIsRegisteredMigrant = false;
  if (input.parentPersonId !== null) {
    const parent = await getPerson(ctx.tx, input.parentPersonId);
    if (parent?.divisionCode !== county) {
      errors.push({
        field: 'parent_person_id',
        message: `No person ${input.parentPersonId} is registered in county ${county}`,
        code: 'unknown_person',
      });
    } else {
      parentIsRegisteredMigrant = parent.status === 'registered';
    }
  }
  if (errors.length > 0) throw new ApiError('unprocessable', errors.map((e) => e.message).join('; '), errors);

  const hash = ctx.sealer.lookupHash(parsed.value);
  await lockAidChild(ctx.tx, county, hash);
  const aidedYears = await aidedSchoolYears(ctx.tx, county, hash);
  const rules = await loadPolicyValue(ctx.tx, vocationalAidRulesParameter, county, on);
  rejectViolations(
    checkVocationalAid(
      {
        birthDate: parsed.birthDate,
        today: on,
        year: input.schoolYear,
        level: input.level,
        amountFen: input.requestedFen,
        ...(input.recognisedCostFen === null ? {} : { recognisedCostFen: input.recognisedCostFen }),
        aidedYears,
        parentIsRegisteredMigrant,
      },
      rules.value,
    ),
    rules.source,
    'requested_fen',
    'The application does not meet the vocational aid rules',
  );

  const masked = maskNationalId(parsed.value);
  const id = await insertVocationalAidApplication(ctx.tx, {
    divisionCode: county,
    townshipCode: village?.townshipCode as number,
    villageCode: input.villageCode,
    childName: input.childName,
    childIdHash: hash,
    childIdSealed: ctx.sealer.seal(parsed.value),
    childIdMasked: masked,
    childBirthDate: parsed.birthDate,
    parentPersonId: input.parentPersonId,
    school: input.school,
    level: input.level,
    schoolYear: input.schoolYear,
    recognisedCostFen: input.recognisedCostFen,
    requestedFen: input.requestedFen,
    appliedOn: on,
    createdBy: ctx.actor.sub,
  });
  if (id === undefined) {
    throw new ApiError(
      'conflict',
      `The child ${masked} already has an application for the ${input.schoolYear} school year in county ${county}.`,
    );
  }
  await audit(ctx, { divisionCode: county, id }, 'vocational_aid.apply', {
    status: 'applied',
    child_name: input.childName,
    child_national_id_masked: masked,
    parent_person_id: input.parentPersonId,
    village_code: input.villageCode,
    school: input.school,
    level: input.level,
    school_year: input.schoolYear,
    recognised_cost_fen: input.recognisedCostFen,
    requested_fen: input.requestedFen,
    applied_on: on,
  });
  return applicationInScope(ctx.tx, id);
}

/** applied → posted: records the village's public posting 村级公示 (first and last day, place). */
export async function recordPosting(
  ctx: Context,
  id: string,
  input: { postingFrom: string; postingTo: string; postingPlace: string | null },
): Promise<VocationalAidApplication> {
  const app = await ownApplication(ctx, id);
  requireTransition(app, 'posted', 'only an application just entered is posted in the village');
  if (input.postingTo < input.postingFrom) {
    throw new ApiError('unprocessable', 'The posting ends before it starts.', [
      { field: 'posting_to', message: 'The posting ends before it starts', code: 'invalid_range' },
    ]);
  }
  await updateVocationalAidApplication(
    ctx.tx,
    app,
    {
      status: 'posted',
      postingFrom: input.postingFrom,
      postingTo: input.postingTo,
      postingPlace: input.postingPlace,
    },
    ctx.actor.sub,
  );
  await audit(ctx, app, 'vocational_aid.post', {
    status: statusChange(app.status, 'posted'),
    posting_from: input.postingFrom,
    posting_to: input.postingTo,
    posting_place: input.postingPlace,
  });
  return applicationInScope(ctx.tx, id);
}

export interface TownshipReviewInput {
  decision: 'approve' | 'reject';
  reviewer: string;
  reviewedOn: string;
  comment: string | null;
}

/**
 * posted → township_reviewed (approve) or rejected (reject, with the reason): the township's review
 * 乡镇审核, recorded by the county clerk with the township reviewer named. Approval needs the posting
 * to have ended; the review day lies between the posting's last day and today.
 */
export async function recordTownshipReview(
  ctx: Context,
  id: string,
  input: TownshipReviewInput,
): Promise<VocationalAidApplication> {
  const app = await ownApplication(ctx, id);
  const to: VocationalAidStatus = input.decision === 'approve' ? 'township_reviewed' : 'rejected';
  requireTransition(app, to, 'only a posted application is reviewed by the township');
  const on = today(ctx.now);
  const errors: FieldError[] = [];
  if (input.reviewedOn > on) {
    errors.push({ field: 'reviewed_on', message: 'The review day is in the future', code: 'future_date' });
  }
  if (input.decision === 'approve') {
    const posting = app.postingFrom && app.postingTo ? { from: app.postingFrom, to: app.postingTo } : null;
    const problem = postingCheck(posting, on, 1);
    if (problem !== null) {
      errors.push({ field: 'decision', message: postingProblemLabels[problem], code: problem });
    } else if (app.postingTo !== null && input.reviewedOn < app.postingTo) {
      errors.push({
        field: 'reviewed_on',
        message: `The township reviews after the posting ends (${app.postingTo})`,
        code: 'before_posting_end',
      });
    }
  } else if (input.comment === null) {
    errors.push({ field: 'comment', message: 'A rejection gives its reason', code: 'required' });
  }
  if (errors.length > 0) throw new ApiError('unprocessable', errors.map((e) => e.message).join('; '), errors);
  await updateVocationalAidApplication(
    ctx.tx,
    app,
    {
      status: to,
      townshipReviewer: input.reviewer,
      townshipReviewedOn: input.reviewedOn,
      townshipComment: input.comment,
      ...(to === 'rejected' ? { rejectionReason: input.comment as string } : {}),
    },
    ctx.actor.sub,
  );
  await audit(
    ctx,
    app,
    input.decision === 'approve' ? 'vocational_aid.township_approve' : 'vocational_aid.reject',
    {
      status: statusChange(app.status, to),
      township_reviewer: input.reviewer,
      township_reviewed_on: input.reviewedOn,
      township_comment: input.comment,
    },
  );
  return applicationInScope(ctx.tx, id);
}

/**
 * township_reviewed → rejected by the county 县级不予发放, with the reason: an application the township
 * approved that the county will not pay (the rules are no longer met on payment, say the parent moved
 * out or the years were used up meanwhile). It then no longer holds the child's school year.
 */
export async function rejectApplication(
  ctx: Context,
  id: string,
  input: { reason: string },
): Promise<VocationalAidApplication> {
  const app = await ownApplication(ctx, id);
  if (app.status !== 'township_reviewed') {
    throw new ApiError(
      'conflict',
      `Vocational aid application ${app.id} is ${app.status} (${vocationalAidStatusLabels[app.status as VocationalAidStatus]}); the county rejects only an application the township approved.`,
    );
  }
  await updateVocationalAidApplication(
    ctx.tx,
    app,
    { status: 'rejected', rejectionReason: input.reason },
    ctx.actor.sub,
  );
  await audit(ctx, app, 'vocational_aid.county_reject', {
    status: statusChange(app.status, 'rejected'),
    reason: input.reason,
  });
  return applicationInScope(ctx.tx, id);
}

export interface PaymentInput {
  paidFen: number;
  paidOn: string;
  reference: string;
}

/**
 * township_reviewed → paid 县级发放: every rule is checked again with the paid amount (the province's
 * `training.vocational_aid` in force on the application date, the age on that date, the years already
 * paid to the child in the county, under the child's lock); not more than was applied for; paid on a
 * day between the township's review and today.
 */
export async function payApplication(
  ctx: Context,
  id: string,
  input: PaymentInput,
): Promise<VocationalAidApplication> {
  const app = await ownApplication(ctx, id);
  requireTransition(app, 'paid', 'the county pays an application the township has approved');
  const on = today(ctx.now);
  const errors: FieldError[] = [];
  if (input.paidOn > on) {
    errors.push({ field: 'paid_on', message: 'The payment day is in the future', code: 'future_date' });
  } else if (app.townshipReviewedOn !== null && input.paidOn < app.townshipReviewedOn) {
    errors.push({
      field: 'paid_on',
      message: `The county pays after the township's review (${app.townshipReviewedOn})`,
      code: 'before_review',
    });
  }
  if (input.paidFen > app.requestedFen) {
    errors.push({
      field: 'amount_fen',
      message: `More than the ${app.requestedFen} fen applied for`,
      code: 'above_requested',
    });
  }
  if (errors.length > 0) throw new ApiError('unprocessable', errors.map((e) => e.message).join('; '), errors);

  const hash = await aidChildHash(ctx.tx, app);
  await lockAidChild(ctx.tx, app.divisionCode, hash);
  const aidedYears = await aidedSchoolYears(ctx.tx, app.divisionCode, hash, app.id);
  let parentIsRegisteredMigrant = false;
  if (app.parentPersonId !== null) {
    const parent = await getPerson(ctx.tx, app.parentPersonId);
    parentIsRegisteredMigrant = parent?.status === 'registered';
  }
  const rules = await loadPolicyValue(ctx.tx, vocationalAidRulesParameter, app.divisionCode, app.appliedOn);
  rejectViolations(
    checkVocationalAid(
      {
        birthDate: app.childBirthDate,
        today: app.appliedOn,
        year: app.schoolYear,
        level: app.level as VocationalLevel,
        amountFen: input.paidFen,
        ...(app.recognisedCostFen === null ? {} : { recognisedCostFen: app.recognisedCostFen }),
        aidedYears,
        parentIsRegisteredMigrant,
      },
      rules.value,
    ),
    rules.source,
    'amount_fen',
    'The payment does not meet the vocational aid rules',
  );
  await updateVocationalAidApplication(
    ctx.tx,
    app,
    { status: 'paid', paidFen: input.paidFen, paidOn: input.paidOn, paymentReference: input.reference },
    ctx.actor.sub,
  );
  await audit(ctx, app, 'vocational_aid.pay', {
    status: statusChange(app.status, 'paid'),
    paid_fen: input.paidFen,
    paid_on: input.paidOn,
    payment_reference: input.reference,
  });
  return applicationInScope(ctx.tx, id);
}
