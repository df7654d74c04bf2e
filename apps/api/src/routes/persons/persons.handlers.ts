import type { RouteHandler } from '@hono/zod-openapi';
import {
  getHousehold as findHousehold,
  getPerson as findPerson,
  type Household,
  type PersonEventRecord,
  type PersonView,
  listHouseholds as queryHouseholds,
  listPersons as queryPersons,
} from '@houfu/db';
import {
  countyOfLocality,
  isSupported,
  statusOn,
  supportWindow,
  supportWindowParameter,
} from '@houfu/domain';
import type { Context as HonoContext } from 'hono';
import { z } from 'zod';
import { today as todayOf } from '../../lib/dates.js';
import { etagOf, requireIfMatch } from '../../lib/etag.js';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import { loadPolicyValue } from '../../lib/policy.js';
import { ApiError } from '../../lib/problem.js';
import { serviceContext } from '../../lib/service-context.js';
import type { AppEnv } from '../../lib/types.js';
import type * as routes from './persons.routes.js';
import * as service from './persons.service.js';

const toHousehold = (h: Household & { members: number }) => ({
  id: h.id,
  county_code: h.divisionCode,
  household_no: h.householdNo,
  village_code: h.villageCode,
  members: h.members,
  version: h.version,
  created_at: h.createdAt.toISOString(),
  updated_at: h.updatedAt.toISOString(),
});

export const toPerson = (p: PersonView) => ({
  id: p.id,
  county_code: p.divisionCode,
  household_id: p.householdId,
  household_no: p.householdNo,
  village_code: p.villageCode,
  relationship: p.relationship,
  name: p.name,
  national_id_masked: p.idMasked,
  sex: p.sex,
  birth_date: p.birthDate,
  reservoir: p.reservoir,
  relocation_date: p.relocationDate,
  relocatee_kind: p.relocateeKind,
  registered_on: p.registeredOn,
  bank_name: p.bankName,
  bank_account_masked: p.bankAccountMasked,
  status: p.status,
  open_conflict: p.openConflict,
  version: p.version,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});

const today = (c: HonoContext<AppEnv>) => todayOf(c.var.deps.now());

async function visiblePerson(c: HonoContext<AppEnv>, id: string): Promise<PersonView> {
  const person = await findPerson(c.var.tx, id);
  if (!person) throw new ApiError('not_found', `Person ${id} was not found.`);
  return person;
}

// ── Households ─────────────────────────────────────────────────────────────────────────────────

export const listHouseholds: RouteHandler<typeof routes.listHouseholds, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, z.tuple([z.number().int(), z.string()]));
  const rows = await queryHouseholds(c.var.tx, {
    county: q.county ?? (q.village ? countyOfLocality(q.village) : undefined),
    village: q.village,
    householdNo: q.household_no,
    after: after ? { divisionCode: after[0], householdNo: after[1] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toHousehold, (h) => [h.divisionCode, h.householdNo]),
    200,
  );
};

export const createHousehold: RouteHandler<typeof routes.createHousehold, AppEnv> = async (c) => {
  const created = await service.createHousehold(serviceContext(c), c.req.valid('json'));
  c.header('etag', etagOf(created.version));
  c.header('location', `/v1/households/${created.id}`);
  return c.json(toHousehold({ ...created, members: 0 }), 201);
};

export const getHousehold: RouteHandler<typeof routes.getHousehold, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const household = await findHousehold(c.var.tx, id);
  if (!household) throw new ApiError('not_found', `Household ${id} was not found.`);
  const members = await queryPersons(c.var.tx, {
    county: household.divisionCode,
    householdId: household.id,
    limit: 1000,
  });
  members.sort((a, b) => Number(b.relationship === 'head') - Number(a.relationship === 'head'));
  c.header('etag', etagOf(household.version));
  return c.json(
    { ...toHousehold({ ...household, members: members.length }), persons: members.map(toPerson) },
    200,
  );
};

export const updateHousehold: RouteHandler<typeof routes.updateHousehold, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const version = requireIfMatch(c.req.valid('header')['if-match']);
  const updated = await service.updateHousehold(serviceContext(c), id, version, c.req.valid('json'));
  const [counted] = await queryHouseholds(c.var.tx, {
    county: updated.divisionCode,
    householdNo: updated.householdNo,
    limit: 1,
  });
  c.header('etag', etagOf(updated.version));
  return c.json(toHousehold({ ...updated, members: counted?.members ?? 0 }), 200);
};

// ── Persons ────────────────────────────────────────────────────────────────────────────────────

export const listPersons: RouteHandler<typeof routes.listPersons, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, z.tuple([z.number().int(), z.uuid()]));
  const byId = q.q !== undefined && /^\d{17}[\dXx]$/.test(q.q);
  const locality = q.village ?? q.township;
  const rows = await queryPersons(c.var.tx, {
    county: q.county ?? (locality ? countyOfLocality(locality) : undefined),
    township: q.township,
    village: q.village,
    householdId: q.household_id,
    status: q.status,
    reservoir: q.reservoir,
    relocationYear: q.relocation_year,
    relocateeKind: q.relocatee_kind,
    namePrefix: byId ? undefined : q.q,
    idHash: byId && q.q ? c.var.deps.sealer.lookupHash(q.q.toUpperCase()) : undefined,
    after: after ? { divisionCode: after[0], id: after[1] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toPerson, (p) => [p.divisionCode, p.id]),
    200,
  );
};

export const createPerson: RouteHandler<typeof routes.createPerson, AppEnv> = async (c) => {
  const created = await service.createPerson(serviceContext(c), c.req.valid('json'));
  c.header('etag', etagOf(created.version));
  c.header('location', `/v1/persons/${created.id}`);
  return c.json(toPerson(created), 201);
};

export const getPerson: RouteHandler<typeof routes.getPerson, AppEnv> = async (c) => {
  const person = await visiblePerson(c, c.req.valid('param').id);
  c.header('etag', etagOf(person.version));
  return c.json(toPerson(person), 200);
};

export const updatePerson: RouteHandler<typeof routes.updatePerson, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const version = requireIfMatch(c.req.valid('header')['if-match']);
  const updated = await service.updatePerson(serviceContext(c), id, version, c.req.valid('json'));
  c.header('etag', etagOf(updated.version));
  return c.json(toPerson(updated), 200);
};

export const revealPerson: RouteHandler<typeof routes.revealPerson, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const revealed = await service.revealPerson(serviceContext(c), id, c.req.valid('json'));
  return c.json({ person_id: id, ...revealed }, 200);
};

// ── Events and status ──────────────────────────────────────────────────────────────────────────

/** An event as the API shows it: when it changes the status under the province's rule, or not. */
function toEvent(e: PersonEventRecord, history: service.PersonHistory) {
  return {
    id: e.id,
    person_id: e.personId,
    kind: e.kind,
    effective_date: e.effectiveDate,
    takes_effect: e.kind === 'correction' ? null : (history.takesEffect.get(e.id) ?? null),
    voided: history.voided.has(e.id),
    reason: e.reason,
    destination_code: e.destinationCode,
    destination_note: e.destinationNote,
    origin_code: e.originCode,
    corrects_id: e.correctsId,
    evidence_ref: e.evidenceRef,
    note: e.note,
    recorded_at: e.recordedAt.toISOString(),
    recorded_by: e.recordedBy,
  };
}

export const listPersonEvents: RouteHandler<typeof routes.listPersonEvents, AppEnv> = async (c) => {
  const person = await visiblePerson(c, c.req.valid('param').id);
  const history = await service.personHistory(c.var.tx, person, today(c));
  return c.json({ data: history.events.map((e) => toEvent(e, history)) }, 200);
};

export const createPersonEvent: RouteHandler<typeof routes.createPersonEvent, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const body = c.req.valid('json');
  const { event, person } = await service.createPersonEvent(serviceContext(c), {
    personId: id,
    kind: body.kind,
    effectiveDate: body.effective_date,
    reason: body.reason,
    destinationCode: body.destination_code,
    destinationNote: body.destination_note,
    correctsId: body.corrects_id,
    evidenceRef: body.evidence_ref,
    note: body.note,
  });
  const history = await service.personHistory(c.var.tx, person, today(c));
  return c.json({ event: toEvent(event, history), person: toPerson(person) }, 201);
};

export const getPersonStatus: RouteHandler<typeof routes.getPersonStatus, AppEnv> = async (c) => {
  const person = await visiblePerson(c, c.req.valid('param').id);
  const on = c.req.valid('query').on ?? today(c);
  const history = await service.personHistory(c.var.tx, person, on);
  const status = statusOn(history.domain, on, history.ctx);
  const rule = (await loadPolicyValue(c.var.tx, supportWindowParameter, person.divisionCode, on)).value;
  return c.json(
    {
      person_id: person.id,
      on,
      status,
      supported: isSupported(status, person.relocationDate, on, rule),
      support_window: supportWindow(person.relocationDate, rule),
      removal_rule: history.ctx.removalRule,
    },
    200,
  );
};
