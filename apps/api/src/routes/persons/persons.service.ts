import {
  appendAudit,
  type Changes,
  detectConflicts,
  getDivision,
  getPerson,
  type Household,
  householdHead,
  idRegisteredInCounty,
  insertHousehold,
  insertPerson,
  insertPersonEvent,
  listPersonEvents,
  lockActiveVillage,
  lockHousehold,
  type Person,
  type PersonEventRecord,
  type PersonPatch,
  type PersonView,
  settleConflicts,
  type Tx,
  updateHouseholdVillage,
  updatePerson as updatePersonRow,
  verificationDates,
} from '@houfu/db';
import {
  checkNewEvent,
  divisionLevel,
  effectiveEvents,
  latestStatus,
  maskBankAccount,
  maskNationalId,
  type PersonEvent,
  type PersonEventKind,
  parseNationalId,
  type RemovalReason,
  removalEffectiveParameter,
  type StatusContext,
} from '@houfu/domain';
import { today as todayOf } from '../../lib/dates.js';
import { etagOf } from '../../lib/etag.js';
import { loadPolicyValue } from '../../lib/policy.js';
import { ApiError } from '../../lib/problem.js';
import type { ServiceContext } from '../../lib/service-context.js';

export type Context = ServiceContext;

const today = (ctx: Context) => todayOf(ctx.now);

function audit(ctx: Context, county: number, action: string, entity: string, id: string, changes: Changes) {
  return appendAudit(ctx.tx, {
    division: county,
    actor: ctx.actor,
    action,
    entityType: entity,
    entityId: id,
    changes,
    requestId: ctx.requestId,
    occurredAt: ctx.now,
  });
}

/** Registry data is written by the county it belongs to; anyone else gets 403 (reads are by scope). */
function assertCountyCaller(ctx: Context): number {
  if (divisionLevel(ctx.actor.division) !== 'county') {
    throw new ApiError('forbidden', 'Registry data is written by the county bureau it belongs to.');
  }
  return ctx.actor.division;
}

/** A row another county owns looks exactly like a missing one. */
function ownOrNotFound<T extends { divisionCode: number }>(
  ctx: Context,
  row: T | undefined,
  what: string,
): T {
  if (!row || row.divisionCode !== ctx.actor.division)
    throw new ApiError('not_found', `${what} was not found.`);
  return row;
}

function staleVersion(what: string, version: number): never {
  throw new ApiError('precondition_failed', `${what} is at version ${version}; read it again.`, [], {
    etag: etagOf(version),
  });
}

async function requireVillage(ctx: Context, county: number, code: number, field: string) {
  if (!(await lockActiveVillage(ctx.tx, county, code))) {
    throw new ApiError('unprocessable', `Village ${code} is not an active village of county ${county}.`, [
      { field, message: 'Unknown or inactive village of your county', code: 'unknown_village' },
    ]);
  }
}

// ── Households ─────────────────────────────────────────────────────────────────────────────────

export async function createHousehold(
  ctx: Context,
  input: { household_no: string; village_code: number },
): Promise<Household> {
  const county = assertCountyCaller(ctx);
  await requireVillage(ctx, county, input.village_code, 'village_code');
  const created = await insertHousehold(ctx.tx, {
    divisionCode: county,
    householdNo: input.household_no,
    villageCode: input.village_code,
  });
  if (!created) throw new ApiError('conflict', `Household number ${input.household_no} is already taken.`);
  await audit(ctx, county, 'household.create', 'household', created.id, {
    household_no: { old: null, new: created.householdNo },
    village_code: { old: null, new: created.villageCode },
  });
  return created;
}

export async function updateHousehold(
  ctx: Context,
  id: string,
  expectedVersion: number,
  input: { village_code: number },
): Promise<Household> {
  const county = assertCountyCaller(ctx);
  const current = ownOrNotFound(ctx, await lockHousehold(ctx.tx, id), `Household ${id}`);
  if (current.version !== expectedVersion) staleVersion(`Household ${id}`, current.version);
  if (current.villageCode === input.village_code) return current;
  await requireVillage(ctx, county, input.village_code, 'village_code');
  const updated = await updateHouseholdVillage(ctx.tx, current, expectedVersion, input.village_code);
  if (!updated) staleVersion(`Household ${id}`, current.version + 1);
  await audit(ctx, county, 'household.update', 'household', id, {
    village_code: { old: current.villageCode, new: updated.villageCode },
  });
  return updated;
}

// ── Persons ────────────────────────────────────────────────────────────────────────────────────

/** The validated ID number with its derived fields; 422 naming the field when it contradicts them. */
function identity(
  ctx: Context,
  nationalId: string,
  claimed: { sex?: string | undefined; birth_date?: string | undefined },
) {
  const parsed = parseNationalId(nationalId, today(ctx));
  if (!parsed.ok) {
    throw new ApiError('validation_failed', 'The national ID number is not valid.', [
      { field: 'national_id', message: `Invalid ID number (${parsed.error})`, code: parsed.error },
    ]);
  }
  if (claimed.sex !== undefined && claimed.sex !== parsed.sex) {
    throw new ApiError('unprocessable', 'The sex contradicts the ID number.', [
      { field: 'sex', message: `The ID number says ${parsed.sex}`, code: 'mismatch' },
    ]);
  }
  if (claimed.birth_date !== undefined && claimed.birth_date !== parsed.birthDate) {
    throw new ApiError('unprocessable', 'The birth date contradicts the ID number.', [
      { field: 'birth_date', message: `The ID number says ${parsed.birthDate}`, code: 'mismatch' },
    ]);
  }
  return {
    idHash: ctx.sealer.lookupHash(parsed.value),
    idSealed: ctx.sealer.seal(parsed.value),
    idMasked: maskNationalId(parsed.value),
    sex: parsed.sex,
    birthDate: parsed.birthDate,
  };
}

function sealedAccount(ctx: Context, account: string | null) {
  return account === null
    ? { bankAccountSealed: null, bankAccountMasked: null }
    : { bankAccountSealed: ctx.sealer.seal(account), bankAccountMasked: maskBankAccount(account) };
}

/** A division code the dictionary knows (origins and destinations of moves); 422 naming the field. */
async function requireDivision(ctx: Context, code: number, field: string) {
  if (!(await getDivision(ctx.tx, code))) {
    throw new ApiError('unprocessable', `Division ${code} is not in the division dictionary.`, [
      { field, message: 'Unknown division', code: 'unknown_division' },
    ]);
  }
}

/** A household has one registered head 户主. */
async function requireNoOtherHead(ctx: Context, county: number, householdId: string, personId?: string) {
  if (await householdHead(ctx.tx, county, householdId, personId)) {
    throw new ApiError('unprocessable', 'The household already has a head (户主).', [
      { field: 'relationship', message: 'The household already has a head', code: 'second_head' },
    ]);
  }
}

/** A household of the caller's county, locked until commit: member changes serialise on it. */
async function requireOwnHousehold(ctx: Context, id: string): Promise<Household> {
  const household = await lockHousehold(ctx.tx, id);
  if (!household || household.divisionCode !== ctx.actor.division) {
    throw new ApiError('unprocessable', `Household ${id} is not a household of your county.`, [
      { field: 'household_id', message: 'Unknown household', code: 'unknown_household' },
    ]);
  }
  return household;
}

function datesInOrder(ctx: Context, dates: { relocation: string; registered: string; birth: string }) {
  const problems: { field: string; message: string; code: string }[] = [];
  if (dates.relocation > today(ctx))
    problems.push({ field: 'relocation_date', message: 'In the future', code: 'future_date' });
  if (dates.registered > today(ctx))
    problems.push({ field: 'registered_on', message: 'In the future', code: 'future_date' });
  if (dates.relocation < dates.birth)
    problems.push({ field: 'relocation_date', message: 'Before the birth date', code: 'before_birth' });
  if (dates.registered < dates.birth)
    problems.push({ field: 'registered_on', message: 'Before the birth date', code: 'before_birth' });
  if (problems.length > 0) throw new ApiError('unprocessable', 'The dates are out of order.', problems);
}

export interface CreatePersonInput {
  household_id: string;
  relationship: Person['relationship'];
  name: string;
  national_id: string;
  sex?: 'male' | 'female' | undefined;
  birth_date?: string | undefined;
  reservoir: string;
  relocation_date: string;
  relocatee_kind: Person['relocateeKind'];
  registered_on?: string | undefined;
  bank_name?: string | undefined;
  bank_account?: string | undefined;
  moved_in?: { origin_code: number; evidence_ref: string; note?: string | undefined } | undefined;
}

export async function createPerson(ctx: Context, input: CreatePersonInput): Promise<PersonView> {
  const county = assertCountyCaller(ctx);
  const household = await requireOwnHousehold(ctx, input.household_id);
  const id = identity(ctx, input.national_id, input);
  if (await idRegisteredInCounty(ctx.tx, county, id.idHash)) {
    throw new ApiError('conflict', 'This ID number is already registered in your county.');
  }
  if (input.relationship === 'head') await requireNoOtherHead(ctx, county, household.id);
  if (input.moved_in) await requireDivision(ctx, input.moved_in.origin_code, 'moved_in.origin_code');
  // By transfer: from the day of arrival; otherwise a resettler is on the registry from the move.
  const registeredOn = input.registered_on ?? (input.moved_in ? today(ctx) : input.relocation_date);
  datesInOrder(ctx, { relocation: input.relocation_date, registered: registeredOn, birth: id.birthDate });
  const created = await insertPerson(ctx.tx, {
    divisionCode: county,
    householdId: household.id,
    relationship: input.relationship,
    name: input.name,
    ...id,
    reservoir: input.reservoir,
    relocationDate: input.relocation_date,
    relocateeKind: input.relocatee_kind,
    registeredOn,
    bankName: input.bank_name ?? null,
    ...sealedAccount(ctx, input.bank_account ?? null),
  });
  if (!created) throw new ApiError('conflict', 'This ID number is already registered in your county.');
  if (input.moved_in) {
    await insertPersonEvent(ctx.tx, {
      divisionCode: county,
      personId: created.id,
      kind: 'moved_in',
      effectiveDate: registeredOn,
      reason: null,
      destinationCode: null,
      destinationNote: null,
      originCode: input.moved_in.origin_code,
      correctsId: null,
      evidenceRef: input.moved_in.evidence_ref,
      note: input.moved_in.note ?? null,
      recordedBy: ctx.actor.sub,
    });
  }
  await audit(ctx, county, 'person.create', 'person', created.id, {
    name: { old: null, new: created.name },
    national_id: { old: null, new: created.idMasked },
    household_id: { old: null, new: created.householdId },
    relocation_date: { old: null, new: created.relocationDate },
    ...(input.moved_in ? { moved_in_from: { old: null, new: input.moved_in.origin_code } } : {}),
  });
  await detectConflicts(ctx.tx, county, [created.id]);
  return (await getPerson(ctx.tx, created.id)) as PersonView;
}

export interface UpdatePersonInput {
  household_id?: string | undefined;
  relationship?: Person['relationship'] | undefined;
  name?: string | undefined;
  national_id?: string | undefined;
  reservoir?: string | undefined;
  relocation_date?: string | undefined;
  relocatee_kind?: Person['relocateeKind'] | undefined;
  bank_name?: string | null | undefined;
  bank_account?: string | null | undefined;
}

export async function updatePerson(
  ctx: Context,
  personId: string,
  expectedVersion: number,
  input: UpdatePersonInput,
): Promise<PersonView> {
  const county = assertCountyCaller(ctx);
  const current = ownOrNotFound(ctx, await getPerson(ctx.tx, personId, { lock: true }), `Person ${personId}`);
  if (current.version !== expectedVersion) staleVersion(`Person ${personId}`, current.version);
  const patch: PersonPatch = {};
  const changes: Changes = {};
  const set = <K extends keyof PersonPatch>(
    key: K,
    field: string,
    value: PersonPatch[K],
    shown?: unknown,
  ) => {
    if (value === current[key]) return;
    patch[key] = value;
    changes[field] = {
      old: shown === undefined ? current[key] : shown,
      new: shown === undefined ? value : shown,
    };
  };
  if (input.household_id !== undefined && input.household_id !== current.householdId) {
    await requireOwnHousehold(ctx, input.household_id);
    set('householdId', 'household_id', input.household_id);
  }
  if (input.relationship !== undefined) set('relationship', 'relationship', input.relationship);
  if ((patch.relationship ?? current.relationship) === 'head' && (patch.relationship || patch.householdId)) {
    if (!patch.householdId) await requireOwnHousehold(ctx, current.householdId);
    await requireNoOtherHead(ctx, county, patch.householdId ?? current.householdId, personId);
  }
  if (input.name !== undefined) set('name', 'name', input.name);
  if (input.reservoir !== undefined) set('reservoir', 'reservoir', input.reservoir);
  if (input.relocatee_kind !== undefined) set('relocateeKind', 'relocatee_kind', input.relocatee_kind);
  let birthDate = current.birthDate;
  let idChanged = false;
  if (input.national_id !== undefined) {
    const id = identity(ctx, input.national_id, {});
    if (!id.idHash.equals(current.idHash)) {
      if (await idRegisteredInCounty(ctx.tx, county, id.idHash, personId)) {
        throw new ApiError('conflict', 'This ID number is already registered in your county.');
      }
      Object.assign(patch, id);
      changes.national_id = { old: current.idMasked, new: id.idMasked };
      if (id.sex !== current.sex) changes.sex = { old: current.sex, new: id.sex };
      if (id.birthDate !== current.birthDate)
        changes.birth_date = { old: current.birthDate, new: id.birthDate };
      birthDate = id.birthDate;
      idChanged = true;
    }
  }
  if (input.relocation_date !== undefined) set('relocationDate', 'relocation_date', input.relocation_date);
  datesInOrder(ctx, {
    relocation: patch.relocationDate ?? current.relocationDate,
    registered: current.registeredOn,
    birth: birthDate,
  });
  if (input.bank_name !== undefined) set('bankName', 'bank_name', input.bank_name);
  if (input.bank_account !== undefined) {
    const sealed = sealedAccount(ctx, input.bank_account);
    if (sealed.bankAccountSealed === null ? current.bankAccountSealed !== null : true) {
      Object.assign(patch, sealed);
      changes.bank_account = { old: current.bankAccountMasked, new: sealed.bankAccountMasked };
    }
  }
  if (Object.keys(changes).length === 0) return current;
  const updated = await updatePersonRow(ctx.tx, current, expectedVersion, patch);
  if (!updated) staleVersion(`Person ${personId}`, current.version + 1);
  await audit(ctx, county, 'person.update', 'person', personId, changes);
  if (idChanged) {
    await settleConflicts(ctx.tx, county, personId);
    await detectConflicts(ctx.tx, county, [personId]);
  }
  return (await getPerson(ctx.tx, personId)) as PersonView;
}

export async function revealPerson(
  ctx: Context,
  personId: string,
  input: { reason: string; fields: ('national_id' | 'bank_account')[] },
): Promise<{ national_id?: string; bank_account?: string | null }> {
  assertCountyCaller(ctx);
  const person = ownOrNotFound(ctx, await getPerson(ctx.tx, personId), `Person ${personId}`);
  const fields = [...new Set(input.fields)];
  await audit(ctx, person.divisionCode, 'person.reveal', 'person', personId, {
    fields: { old: null, new: fields },
    reason: { old: null, new: input.reason },
  });
  return {
    ...(fields.includes('national_id') ? { national_id: ctx.sealer.open(person.idSealed) } : {}),
    ...(fields.includes('bank_account')
      ? { bank_account: person.bankAccountSealed ? ctx.sealer.open(person.bankAccountSealed) : null }
      : {}),
  };
}

// ── Events and status ──────────────────────────────────────────────────────────────────────────

const asDomainEvent = (e: PersonEventRecord): PersonEvent => ({
  id: e.id,
  kind: e.kind,
  effectiveDate: e.effectiveDate,
  reason: e.reason,
  correctsId: e.correctsId,
  recordedAt: e.recordedAt.toISOString(),
});

/**
 * What the status rules need for one person: the province's removal rule (with its stored overrides)
 * and the review dates.
 */
export async function statusContext(
  tx: Tx,
  person: Pick<Person, 'divisionCode' | 'registeredOn'>,
  on: string,
): Promise<StatusContext> {
  return {
    registeredOn: person.registeredOn,
    removalRule: (await loadPolicyValue(tx, removalEffectiveParameter, person.divisionCode, on)).value,
    annualReviews: await verificationDates(tx, person.divisionCode),
  };
}

export interface PersonHistory {
  events: PersonEventRecord[];
  domain: PersonEvent[];
  ctx: StatusContext;
  /** Event id → the date it changes the status (absent: voided or pending). */
  takesEffect: Map<string, string>;
  voided: Set<string>;
}

export async function personHistory(tx: Tx, person: Person, on: string): Promise<PersonHistory> {
  const events = await listPersonEvents(tx, person.divisionCode, person.id);
  const domain = events.map(asDomainEvent);
  const ctx = await statusContext(tx, person, on);
  const takesEffect = new Map(effectiveEvents(domain, ctx).map((e) => [e.event.id, e.takesEffect]));
  const voided = new Set(
    events.flatMap((e) => (e.kind === 'correction' && e.correctsId ? [e.correctsId] : [])),
  );
  return { events, domain, ctx, takesEffect, voided };
}

export interface RecordEventInput {
  personId: string;
  kind: Exclude<PersonEventKind, 'moved_in'>;
  effectiveDate: string;
  reason?: RemovalReason | undefined;
  destinationCode?: number | undefined;
  destinationNote?: string | undefined;
  correctsId?: string | undefined;
  evidenceRef: string;
  note?: string | undefined;
  /** The conflict a reviewer resolves with this event (left for the reviewer to close). */
  resolvingConflictId?: string | undefined;
}

/**
 * Records a status event for a person visible to the caller (authorisation is the caller's: the
 * person's county through the API, or the reviewing division when it resolves a conflict), checks it
 * against the history, keeps `persons.status` in step and audits in the person's county chain.
 */
export async function recordPersonEvent(
  ctx: Context,
  input: RecordEventInput,
): Promise<{ event: PersonEventRecord; person: PersonView }> {
  const person = await getPerson(ctx.tx, input.personId, { lock: true });
  if (!person) throw new ApiError('not_found', `Person ${input.personId} was not found.`);
  if (input.destinationCode !== undefined)
    await requireDivision(ctx, input.destinationCode, 'destination_code');
  const history = await personHistory(ctx.tx, person, today(ctx));
  const error = checkNewEvent(
    history.domain,
    {
      kind: input.kind,
      effectiveDate: input.effectiveDate,
      reason: input.reason ?? null,
      correctsId: input.correctsId ?? null,
      destinationCode: input.destinationCode ?? null,
    },
    { ...history.ctx, today: today(ctx) },
  );
  if (error) {
    const field =
      error.code === 'reason_required'
        ? 'reason'
        : error.code === 'destination_required'
          ? 'destination_code'
          : ['unknown_event', 'already_corrected', 'cannot_correct_correction'].includes(error.code) &&
              input.kind === 'correction'
            ? 'corrects_id'
            : ['future_date', 'before_registration'].includes(error.code)
              ? 'effective_date'
              : 'kind';
    throw new ApiError('unprocessable', error.message, [{ field, message: error.message, code: error.code }]);
  }
  const event = await insertPersonEvent(ctx.tx, {
    divisionCode: person.divisionCode,
    personId: person.id,
    kind: input.kind,
    effectiveDate: input.effectiveDate,
    reason: input.kind === 'removed' ? (input.reason ?? null) : null,
    destinationCode: input.kind === 'moved_out' ? (input.destinationCode ?? null) : null,
    destinationNote: input.destinationNote ?? null,
    originCode: null,
    correctsId: input.kind === 'correction' ? (input.correctsId ?? null) : null,
    evidenceRef: input.evidenceRef,
    note: input.note ?? null,
    recordedBy: ctx.actor.sub,
  });
  await audit(ctx, person.divisionCode, `person.event.${input.kind}`, 'person', person.id, {
    event_id: { old: null, new: event.id },
    effective_date: { old: null, new: event.effectiveDate },
    ...(event.reason ? { reason: { old: null, new: event.reason } } : {}),
    ...(event.destinationCode ? { destination_code: { old: null, new: event.destinationCode } } : {}),
    ...(event.correctsId ? { corrects_id: { old: null, new: event.correctsId } } : {}),
    evidence_ref: { old: null, new: event.evidenceRef },
  });
  await refreshPersonStatus(
    ctx,
    person,
    [...history.domain, asDomainEvent(event)],
    history.ctx,
    input.resolvingConflictId,
  );
  return { event, person: (await getPerson(ctx.tx, person.id)) as PersonView };
}

/**
 * Writes the status that follows from the events into `persons.status` when it changed, and keeps
 * conflicts in step: registered again (re-registration, a voided death or move) → the ID may be
 * registered elsewhere; no longer registered → the person's open conflicts (but `keepOpen`) close.
 */
async function refreshPersonStatus(
  ctx: Context,
  person: Person,
  events: PersonEvent[],
  sctx: StatusContext,
  keepOpen?: string,
): Promise<boolean> {
  const next = latestStatus(events, sctx);
  if (next === person.status || next === 'not_registered') return false;
  const updated = await updatePersonRow(ctx.tx, person, person.version, { status: next });
  if (!updated) throw new Error(`person ${person.id} changed while locked`);
  await audit(ctx, person.divisionCode, 'person.status', 'person', person.id, {
    status: { old: person.status, new: next },
  });
  if (next === 'registered') await detectConflicts(ctx.tx, person.divisionCode, [person.id]);
  else await settleConflicts(ctx.tx, person.divisionCode, person.id, keepOpen);
  return true;
}

/**
 * Re-derives the status of these persons (e.g. after an annual verification, when removals waiting
 * for the review take effect); returns how many changed.
 */
export async function refreshPersonStatuses(ctx: Context, personIds: readonly string[]): Promise<number> {
  let changed = 0;
  for (const id of personIds) {
    const person = await getPerson(ctx.tx, id, { lock: true });
    if (!person) continue;
    const history = await personHistory(ctx.tx, person, today(ctx));
    if (await refreshPersonStatus(ctx, person, history.domain, history.ctx)) changed += 1;
  }
  return changed;
}

/** Only the person's own county records events through the persons API. */
export async function createPersonEvent(ctx: Context, input: RecordEventInput) {
  assertCountyCaller(ctx);
  ownOrNotFound(ctx, await getPerson(ctx.tx, input.personId), `Person ${input.personId}`);
  return recordPersonEvent(ctx, input);
}
