import type { RouteHandler } from '@hono/zod-openapi';
import { listVocationalAidApplications, type VocationalAidApplication } from '@houfu/db';
import {
  ageOn,
  scopeOf,
  type VocationalAidStatus,
  type VocationalLevel,
  vocationalAidStatusLabels,
  vocationalLevelLabels,
} from '@houfu/domain';
import { z } from 'zod';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import { serviceContext } from '../../lib/service-context.js';
import type { AppEnv } from '../../lib/types.js';
import type * as routes from './vocational-aid.routes.js';
import * as service from './vocational-aid.service.js';

/** The wire form of an application: the child's ID only masked. */
export const toApplication = (a: VocationalAidApplication) => ({
  id: a.id,
  county_code: a.divisionCode,
  county_name: a.countyName,
  township_code: a.townshipCode,
  village_code: a.villageCode,
  child_name: a.childName,
  child_national_id_masked: a.childIdMasked,
  child_birth_date: a.childBirthDate,
  child_age: ageOn(a.childBirthDate, a.appliedOn),
  parent_person_id: a.parentPersonId,
  parent_name: a.parentName,
  school: a.school,
  level: a.level as VocationalLevel,
  level_label: vocationalLevelLabels[a.level as VocationalLevel],
  school_year: a.schoolYear,
  recognised_cost_fen: a.recognisedCostFen,
  requested_fen: a.requestedFen,
  applied_on: a.appliedOn,
  status: a.status as VocationalAidStatus,
  status_label: vocationalAidStatusLabels[a.status as VocationalAidStatus],
  posting_from: a.postingFrom,
  posting_to: a.postingTo,
  posting_place: a.postingPlace,
  township_reviewer: a.townshipReviewer,
  township_reviewed_on: a.townshipReviewedOn,
  township_comment: a.townshipComment,
  paid_fen: a.paidFen,
  paid_on: a.paidOn,
  payment_reference: a.paymentReference,
  rejection_reason: a.rejectionReason,
  version: a.version,
  created_by: a.createdBy,
  created_at: a.createdAt,
  updated_by: a.updatedBy,
  updated_at: a.updatedAt,
  links: { self: `/v1/vocational-aid-applications/${a.id}` },
});

export const create: RouteHandler<typeof routes.createApplication, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const app = await service.createApplication(serviceContext(c), {
    villageCode: b.village_code,
    childName: b.child_name,
    childNationalId: b.child_national_id,
    parentPersonId: b.parent_person_id ?? null,
    school: b.school,
    level: b.level,
    schoolYear: b.school_year,
    recognisedCostFen: b.recognised_cost_fen ?? null,
    requestedFen: b.requested_fen,
  });
  return c.json(toApplication(app), 201, { location: `/v1/vocational-aid-applications/${app.id}` });
};

const cursor = z.tuple([z.number().int(), z.string().max(30), z.uuid()]);

export const list: RouteHandler<typeof routes.listApplications, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, cursor);
  const rows = await listVocationalAidApplications(c.var.tx, {
    range: scopeOf(c.var.principal.division),
    county: q.county,
    status: q.status,
    schoolYear: q.school_year,
    after: after ? { divisionCode: after[0], createdAt: after[1], id: after[2] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toApplication, (a) => [a.divisionCode, a.createdAt, a.id]),
    200,
  );
};

export const get: RouteHandler<typeof routes.getApplication, AppEnv> = async (c) => {
  const app = await service.applicationInScope(c.var.tx, c.req.valid('param').id);
  return c.json(toApplication(app), 200);
};

export const post: RouteHandler<typeof routes.postApplication, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const app = await service.recordPosting(serviceContext(c), c.req.valid('param').id, {
    postingFrom: b.posting_from,
    postingTo: b.posting_to,
    postingPlace: b.posting_place ?? null,
  });
  return c.json(toApplication(app), 200);
};

export const review: RouteHandler<typeof routes.reviewApplication, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const app = await service.recordTownshipReview(serviceContext(c), c.req.valid('param').id, {
    decision: b.decision,
    reviewer: b.reviewer,
    reviewedOn: b.reviewed_on,
    comment: b.comment ?? null,
  });
  return c.json(toApplication(app), 200);
};

export const pay: RouteHandler<typeof routes.payApplication, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const app = await service.payApplication(serviceContext(c), c.req.valid('param').id, {
    paidFen: b.amount_fen,
    paidOn: b.paid_on,
    reference: b.reference,
  });
  return c.json(toApplication(app), 200);
};

export const reject: RouteHandler<typeof routes.rejectApplication, AppEnv> = async (c) => {
  const app = await service.rejectApplication(serviceContext(c), c.req.valid('param').id, {
    reason: c.req.valid('json').reason,
  });
  return c.json(toApplication(app), 200);
};
