/**
 * The resettled-population registry 移民人口登记: household relationships,
 * status over time from dated events, when a removal 核减 takes effect, the
 * annual verification 年度核定, the support window 扶持期限 and which division
 * reviews a registration conflict between two counties.
 *
 * Pure rules: every date (`today` included) is passed in as ISO `YYYY-MM-DD`.
 */

import { z } from 'zod';
import { divisionLevel, isDivisionCode, NATION, parentDivision } from './divisions.js';
import {
  assertIsoDate,
  daysFromCivil,
  daysInMonth,
  isIsoDate,
  isLeapYear,
  isoDate,
} from './internal/calendar.js';
import { assertCount, isOneOf } from './internal/checks.js';
import { defineParameter, type Parameter } from './parameters.js';

/* ------------------------------------------------------------------------ */
/* Vocabularies                                                              */
/* ------------------------------------------------------------------------ */

/** Relationship to the head of household 与户主关系. */
export const relationships = [
  'head',
  'spouse',
  'child',
  'child_in_law',
  'grandchild',
  'parent',
  'grandparent',
  'sibling',
  'other',
] as const;
/** One relationship to the head of household. */
export type Relationship = (typeof relationships)[number];
/** Chinese labels of {@link relationships}. */
export const relationshipLabels: Readonly<Record<Relationship, string>> = Object.freeze({
  head: '户主',
  spouse: '配偶',
  child: '子女',
  child_in_law: '儿媳/女婿',
  grandchild: '孙子女',
  parent: '父母',
  grandparent: '祖父母',
  sibling: '兄弟姐妹',
  other: '其他',
});
/** Zod schema for a relationship. */
export const relationshipSchema = z.enum(relationships);

/** Kind of relocatee 移民类别: an original relocatee 原迁移民 or other. */
export const relocateeKinds = ['original', 'other'] as const;
/** One relocatee kind. */
export type RelocateeKind = (typeof relocateeKinds)[number];
/** Chinese labels of {@link relocateeKinds}. */
export const relocateeKindLabels: Readonly<Record<RelocateeKind, string>> = Object.freeze({
  original: '原迁移民',
  other: '其他',
});
/** Zod schema for a relocatee kind. */
export const relocateeKindSchema = z.enum(relocateeKinds);

/** Reason for a removal from the registry 核减原因. */
export const removalReasons = ['civil_servant', 'non_agricultural_hukou', 'imprisonment', 'other'] as const;
/** One removal reason. */
export type RemovalReason = (typeof removalReasons)[number];
/** Chinese labels of {@link removalReasons}. */
export const removalReasonLabels: Readonly<Record<RemovalReason, string>> = Object.freeze({
  civil_servant: '公务员或财政供养人员',
  non_agricultural_hukou: '转为非农业户口',
  imprisonment: '服刑',
  other: '其他',
});
/** Zod schema for a removal reason. */
export const removalReasonSchema = z.enum(removalReasons);

/** Kind of a registry event 人口变动事项. */
export const personEventKinds = [
  'moved_in',
  'death',
  'moved_out',
  'removed',
  're_registered',
  'correction',
] as const;
/** One event kind. */
export type PersonEventKind = (typeof personEventKinds)[number];
/** Chinese labels of {@link personEventKinds}. */
export const personEventKindLabels: Readonly<Record<PersonEventKind, string>> = Object.freeze({
  moved_in: '迁入',
  death: '死亡',
  moved_out: '迁出',
  removed: '核减',
  re_registered: '重新登记',
  correction: '更正',
});
/** Zod schema for an event kind. */
export const personEventKindSchema = z.enum(personEventKinds);

/** Registry status of a person on a date 人口状态. */
export const personStatuses = ['not_registered', 'registered', 'deceased', 'moved_out', 'removed'] as const;
/** One person status. */
export type PersonStatus = (typeof personStatuses)[number];
/** Chinese labels of {@link personStatuses}. */
export const personStatusLabels: Readonly<Record<PersonStatus, string>> = Object.freeze({
  not_registered: '未登记',
  registered: '在册',
  deceased: '死亡',
  moved_out: '迁出',
  removed: '核减',
});
/** Zod schema for a person status. */
export const personStatusSchema = z.enum(personStatuses);

/* ------------------------------------------------------------------------ */
/* Events and status                                                         */
/* ------------------------------------------------------------------------ */

/** A recorded change to a person's registration, backed by evidence 证明材料. */
export interface PersonEvent {
  id: string;
  kind: PersonEventKind;
  /** Date the change happened (per the certificate), ISO `YYYY-MM-DD`. */
  effectiveDate: string;
  /** Required for `removed`. */
  reason?: RemovalReason | null;
  /** For `correction`: the id of the event it voids. */
  correctsId?: string | null;
  /** ISO timestamp when the event was recorded; tie-breaker between same-day events. */
  recordedAt: string;
}

/** When a removal takes effect 核减生效时间 (see {@link removalEffectiveParameter}). */
export const removalEffectiveRules = ['event_date', 'next_january', 'annual_review'] as const;
/**
 * `event_date`: on the event date; `next_january`: on 1 January of the next
 * year; `annual_review`: when the county submits that year's verification.
 */
export type RemovalEffectiveRule = (typeof removalEffectiveRules)[number];

/** When a removal 核减 takes effect, by province and over time (**param**). */
export const removalEffectiveParameter: Parameter<RemovalEffectiveRule> =
  defineParameter<RemovalEffectiveRule>({
    id: 'registry.removal_effective',
    description:
      'When a removal from the registry (核减) takes effect: on the event date, on 1 January of the next year, or at the annual verification (年度核定).',
    schema: z.enum(removalEffectiveRules),
    national: [
      { from: '2006-07-01', value: 'annual_review', source: 'DOMAIN.md: others: at the annual review' },
    ],
    provinces: {
      650000: [
        {
          from: '2006-07-01',
          value: 'next_january',
          source: 'DOMAIN.md: 新疆 rule: 1 January of the next year',
        },
      ],
    },
  });

/** What the status rules need to know about a person and their county. */
export interface StatusContext {
  /** Date the person entered the registry 登记日期, ISO `YYYY-MM-DD`. */
  registeredOn: string;
  /** The removal rule in force (from {@link removalEffectiveParameter}). */
  removalRule: RemovalEffectiveRule;
  /** Year → ISO date the county submitted its verification 年度核定 of that year. */
  annualReviews?: Readonly<Record<number, string>>;
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

/** Parses an ISO timestamp with an offset into a sortable `[seconds since epoch, nanoseconds]`. */
function timestampKey(s: unknown, what: string): [number, number] {
  const m = typeof s === 'string' ? TIMESTAMP.exec(s) : null;
  const bad = () => new RangeError(`${what} must be an ISO timestamp with offset, got ${JSON.stringify(s)}`);
  if (!m) throw bad();
  const [, y, mo, d, h, mi, sec = '0', frac = '', zone = 'Z'] = m;
  if (!isIsoDate(`${y}-${mo}-${d}`)) throw bad();
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (hour > 23 || minute > 59 || second > 59) throw bad();
  let offset = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 18 || om > 59) throw bad();
    offset = (zone.startsWith('-') ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const days = daysFromCivil(Number(y), Number(mo), Number(d));
  return [days * 86_400 + hour * 3600 + minute * 60 + second - offset, Number(frac.padEnd(9, '0'))];
}

function compareRecorded(a: PersonEvent, b: PersonEvent): number {
  const ka = timestampKey(a.recordedAt, 'recordedAt');
  const kb = timestampKey(b.recordedAt, 'recordedAt');
  return ka[0] - kb[0] || ka[1] - kb[1] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function assertRule(rule: unknown): asserts rule is RemovalEffectiveRule {
  if (!isOneOf(removalEffectiveRules, rule)) {
    throw new RangeError(
      `removal rule must be one of ${removalEffectiveRules.join(', ')}, got ${JSON.stringify(rule)}`,
    );
  }
}

function checkAnnualReviews(reviews: unknown): void {
  if (reviews === undefined || reviews === null) return;
  if (typeof reviews !== 'object' || Array.isArray(reviews)) {
    throw new RangeError('annualReviews must be an object of year → ISO date');
  }
  for (const [key, date] of Object.entries(reviews)) {
    const year = Number(key);
    if (!/^\d{4}$/.test(key) || year < 1) {
      throw new RangeError(`annualReviews key must be a four-digit year, got ${JSON.stringify(key)}`);
    }
    assertIsoDate(date as string, `annualReviews[${key}]`);
    if ((date as string) < isoDate(year, 1, 1)) {
      throw new RangeError(`annualReviews[${key}]: the ${key} verification cannot be submitted on ${date}`);
    }
  }
}

function checkContext(ctx: StatusContext): void {
  if (ctx === null || typeof ctx !== 'object') throw new RangeError('status context must be an object');
  assertIsoDate(ctx.registeredOn, 'registeredOn');
  assertRule(ctx.removalRule);
  checkAnnualReviews(ctx.annualReviews);
}

/** Validates an event history; returns the events by id. */
function checkEvents(events: readonly PersonEvent[]): Map<string, PersonEvent> {
  if (!Array.isArray(events)) throw new RangeError('events must be an array');
  const byId = new Map<string, PersonEvent>();
  for (const e of events as readonly PersonEvent[]) {
    if (e === null || typeof e !== 'object') throw new RangeError('each event must be an object');
    if (typeof e.id !== 'string' || e.id === '') throw new RangeError('event id must be a non-empty string');
    const at = `event ${JSON.stringify(e.id)}`;
    if (byId.has(e.id)) throw new RangeError(`${at}: duplicate event id`);
    if (!isOneOf(personEventKinds, e.kind))
      throw new RangeError(`${at}: unknown kind ${JSON.stringify(e.kind)}`);
    assertIsoDate(e.effectiveDate, `${at}: effectiveDate`);
    timestampKey(e.recordedAt, `${at}: recordedAt`);
    if (e.reason != null && !isOneOf(removalReasons, e.reason)) {
      throw new RangeError(`${at}: unknown removal reason ${JSON.stringify(e.reason)}`);
    }
    if (e.correctsId != null && (typeof e.correctsId !== 'string' || e.correctsId === '')) {
      throw new RangeError(`${at}: correctsId must be a non-empty string`);
    }
    if (e.kind === 'correction' && e.correctsId == null) {
      throw new RangeError(`${at}: a correction must name the event it corrects`);
    }
    if (e.kind !== 'correction' && e.correctsId != null) {
      throw new RangeError(`${at}: only a correction may have correctsId`);
    }
    byId.set(e.id, e);
  }
  for (const e of byId.values()) {
    if (e.kind !== 'correction') continue;
    const target = byId.get(e.correctsId as string);
    if (target === undefined) {
      throw new RangeError(
        `event ${JSON.stringify(e.id)}: corrects unknown event ${JSON.stringify(e.correctsId)}`,
      );
    }
    if (target.kind === 'correction') {
      throw new RangeError(`event ${JSON.stringify(e.id)}: a correction cannot correct another correction`);
    }
  }
  return byId;
}

/**
 * The date a removal 核减 recorded for `eventDate` takes effect under `rule`:
 * `event_date` → the event date; `next_january` → 1 January of the next year;
 * `annual_review` → the date the verification of the event's year was
 * submitted (never earlier than the event date), or `null` when that
 * verification has not been submitted yet (not yet effective).
 * Throws RangeError on an invalid date, rule or review table.
 */
export function removalTakesEffect(
  eventDate: string,
  rule: RemovalEffectiveRule,
  annualReviews?: Readonly<Record<number, string>>,
): string | null {
  assertIsoDate(eventDate, 'eventDate');
  assertRule(rule);
  checkAnnualReviews(annualReviews);
  const year = Number(eventDate.slice(0, 4));
  switch (rule) {
    case 'event_date':
      return eventDate;
    case 'next_january':
      if (year >= 9999) throw new RangeError(`no next January after ${eventDate}`);
      return isoDate(year + 1, 1, 1);
    case 'annual_review': {
      const submitted = annualReviews?.[year];
      if (submitted === undefined) return null;
      return submitted < eventDate ? eventDate : submitted;
    }
  }
}

/**
 * The events that count, each with the date it takes effect, in order:
 * events voided by a `correction` (named by its `correctsId`) are dropped;
 * corrections stay in the list but never change status; a removal takes
 * effect per {@link removalTakesEffect} and is dropped while not yet
 * effective, or when the person re-registered (`re_registered` recorded after
 * it) before it took effect; other events take effect on their
 * `effectiveDate`. Sorted by `takesEffect`, then `recordedAt`, then `id`.
 * Throws RangeError on an invalid history or context.
 */
export function effectiveEvents(
  events: readonly PersonEvent[],
  ctx: StatusContext,
): { event: PersonEvent; takesEffect: string }[] {
  checkContext(ctx);
  const byId = checkEvents(events);
  const voided = new Set<string>();
  for (const e of byId.values()) if (e.kind === 'correction') voided.add(e.correctsId as string);
  const live = [...byId.values()].filter((e) => !voided.has(e.id));
  const reRegistrations = live.filter((e) => e.kind === 're_registered');
  const out: { event: PersonEvent; takesEffect: string }[] = [];
  for (const event of live) {
    if (event.kind !== 'removed') {
      out.push({ event, takesEffect: event.effectiveDate });
      continue;
    }
    const takesEffect = removalTakesEffect(event.effectiveDate, ctx.removalRule, ctx.annualReviews);
    if (takesEffect === null) continue;
    const overtaken = reRegistrations.some(
      (r) =>
        r.effectiveDate < takesEffect &&
        (r.effectiveDate > event.effectiveDate ||
          (r.effectiveDate === event.effectiveDate && compareRecorded(r, event) > 0)),
    );
    if (!overtaken) out.push({ event, takesEffect });
  }
  return out.sort(
    (a, b) =>
      (a.takesEffect < b.takesEffect ? -1 : a.takesEffect > b.takesEffect ? 1 : 0) ||
      compareRecorded(a.event, b.event),
  );
}

/**
 * A person's status 人口状态 on `on`: `not_registered` before `registeredOn`;
 * otherwise `registered`, changed by every effective event taking effect on
 * or before `on`: death → `deceased` (final: later events are ignored),
 * moved_out → `moved_out`, removed → `removed`, re_registered → `registered`
 * (only from `moved_out` or `removed`), moved_in → `registered`; corrections
 * change nothing. Throws RangeError on invalid input.
 */
export function statusOn(events: readonly PersonEvent[], on: string, ctx: StatusContext): PersonStatus {
  assertIsoDate(on, 'on');
  const effective = effectiveEvents(events, ctx);
  if (on < ctx.registeredOn) return 'not_registered';
  let status: PersonStatus = 'registered';
  for (const { event, takesEffect } of effective) {
    if (takesEffect > on || status === 'deceased') break;
    switch (event.kind) {
      case 'death':
        status = 'deceased';
        break;
      case 'moved_out':
        status = 'moved_out';
        break;
      case 'removed':
        status = 'removed';
        break;
      case 're_registered':
        if (status === 'moved_out' || status === 'removed') status = 'registered';
        break;
      case 'moved_in':
        status = 'registered';
        break;
      case 'correction':
        break;
    }
  }
  return status;
}

/** Status after every effective event, whatever its date: {@link statusOn} on `9999-12-31`. */
export function latestStatus(events: readonly PersonEvent[], ctx: StatusContext): PersonStatus {
  return statusOn(events, '9999-12-31', ctx);
}

/** Why a new event cannot be recorded. */
export interface StatusTransitionError {
  code:
    | 'already_deceased'
    | 'not_registered'
    | 'not_removed_or_moved'
    | 'before_registration'
    | 'unknown_event'
    | 'already_corrected'
    | 'cannot_correct_correction'
    | 'reason_required'
    | 'destination_required'
    | 'future_date';
  message: string;
}

/** An event about to be recorded. */
export interface NewPersonEvent {
  kind: PersonEventKind;
  effectiveDate: string;
  reason?: RemovalReason | null;
  correctsId?: string | null;
  /** For `moved_out`: the division moved to 迁往地. */
  destinationCode?: number | null;
}

function fail(code: StatusTransitionError['code'], message: string): StatusTransitionError {
  return { code, message };
}

/**
 * Checks whether `next` may be added to the history `existing`; returns the
 * first violated rule, or `null` when it may be recorded:
 * - `moved_in` is recorded only when the person is registered → `unknown_event`;
 * - the date is not after `today` (`future_date`) nor before `registeredOn` (`before_registration`);
 * - a correction 更正 names an existing event (`unknown_event`) that is not itself a correction
 *   (`cannot_correct_correction`) and not already corrected (`already_corrected`);
 * - `removed` needs a reason (`reason_required`), `moved_out` a destination (`destination_required`);
 * - death, moved_out and removed need status `registered` on the date, read with removals
 *   taking effect on their event date (`already_deceased` or `not_registered`); a second death is
 *   `already_deceased`;
 * - re_registered needs status `moved_out` or `removed` (`already_deceased` or `not_removed_or_moved`).
 * Throws RangeError on malformed input (bad dates, unknown kinds or reasons, invalid history).
 */
export function checkNewEvent(
  existing: readonly PersonEvent[],
  next: NewPersonEvent,
  ctx: StatusContext & { today: string },
): StatusTransitionError | null {
  checkContext(ctx);
  assertIsoDate(ctx.today, 'today');
  const byId = checkEvents(existing);
  if (next === null || typeof next !== 'object') throw new RangeError('new event must be an object');
  if (!isOneOf(personEventKinds, next.kind)) {
    throw new RangeError(`unknown event kind ${JSON.stringify(next.kind)}`);
  }
  assertIsoDate(next.effectiveDate, 'effectiveDate');
  if (next.reason != null && !isOneOf(removalReasons, next.reason)) {
    throw new RangeError(`unknown removal reason ${JSON.stringify(next.reason)}`);
  }
  if (next.correctsId != null && typeof next.correctsId !== 'string') {
    throw new RangeError('correctsId must be a string');
  }
  if (next.destinationCode != null && !isDivisionCode(next.destinationCode)) {
    throw new RangeError(`invalid destination division code: ${String(next.destinationCode)}`);
  }

  if (next.kind === 'moved_in') {
    return fail('unknown_event', 'moved_in (迁入) is recorded only when the person is registered');
  }
  if (next.effectiveDate > ctx.today) {
    return fail('future_date', `effective date ${next.effectiveDate} is after today (${ctx.today})`);
  }
  if (next.effectiveDate < ctx.registeredOn) {
    return fail(
      'before_registration',
      `effective date ${next.effectiveDate} is before registration (登记) on ${ctx.registeredOn}`,
    );
  }

  if (next.kind === 'correction') {
    const target = next.correctsId ? byId.get(next.correctsId) : undefined;
    if (target === undefined) {
      return fail(
        'unknown_event',
        `a correction (更正) must name an existing event, got ${JSON.stringify(next.correctsId ?? null)}`,
      );
    }
    if (target.kind === 'correction') {
      return fail('cannot_correct_correction', 'a correction (更正) cannot itself be corrected');
    }
    for (const e of byId.values()) {
      if (e.kind === 'correction' && e.correctsId === target.id) {
        return fail(
          'already_corrected',
          `event ${JSON.stringify(target.id)} is already corrected by ${JSON.stringify(e.id)}`,
        );
      }
    }
    return null;
  }

  if (next.kind === 'removed' && next.reason == null) {
    return fail('reason_required', 'a removal (核减) needs a reason');
  }
  if (next.kind === 'moved_out' && (next.destinationCode == null || next.destinationCode === NATION)) {
    return fail('destination_required', 'a move-out (迁出) needs the destination division');
  }

  const voided = new Set<string>();
  for (const e of byId.values()) if (e.kind === 'correction') voided.add(e.correctsId as string);
  if (next.kind === 'death' && [...byId.values()].some((e) => e.kind === 'death' && !voided.has(e.id))) {
    return fail('already_deceased', 'a death (死亡) is already recorded for this person');
  }

  const status = statusOn(existing, next.effectiveDate, { ...ctx, removalRule: 'event_date' });
  if (status === 'deceased') {
    return fail('already_deceased', `the person is deceased (死亡) on ${next.effectiveDate}`);
  }
  if (next.kind === 're_registered') {
    if (status === 'moved_out' || status === 'removed') return null;
    return fail(
      'not_removed_or_moved',
      `re-registration (重新登记) needs a person moved out or removed, but they are ${status} on ${next.effectiveDate}`,
    );
  }
  if (status !== 'registered') {
    return fail(
      'not_registered',
      `${next.kind} needs a registered (在册) person, but they are ${status} on ${next.effectiveDate}`,
    );
  }
  return null;
}

/* ------------------------------------------------------------------------ */
/* Annual verification 年度核定                                              */
/* ------------------------------------------------------------------------ */

/**
 * One year's verification input. Births are never added ("增人不增，减人要减"):
 * the newly added population 新增人口 is served by projects instead.
 */
export interface VerificationInput {
  year: number;
  /** Last year's verified count. */
  previousCount: number;
  deaths: number;
  removals: Readonly<Record<RemovalReason, number>>;
  movedOut: number;
  movedIn: number;
  reRegistered: number;
}

/** A computed verification. */
export interface VerificationResult extends VerificationInput {
  /** deaths + all removals + movedOut. */
  decrease: number;
  /** movedIn + reRegistered. */
  increase: number;
  verifiedCount: number;
}

/**
 * The verified count 核定人数 of a year: last year's count − (deaths + removals
 * + moved out) + (moved in + re-registered). Seed 000: 9,868 − 89 deaths =
 * 9,779. Throws RangeError on negative or non-integer counts, unknown removal
 * reasons, or a negative result.
 */
export function computeVerification(input: VerificationInput): VerificationResult {
  if (input === null || typeof input !== 'object')
    throw new RangeError('verification input must be an object');
  if (!Number.isInteger(input.year) || input.year < 1949 || input.year > 2200) {
    throw new RangeError(`verification year must be an integer 1949..2200, got ${String(input.year)}`);
  }
  const previousCount = assertCount(input.previousCount, 'previousCount');
  const deaths = assertCount(input.deaths, 'deaths');
  const movedOut = assertCount(input.movedOut, 'movedOut');
  const movedIn = assertCount(input.movedIn, 'movedIn');
  const reRegistered = assertCount(input.reRegistered, 'reRegistered');
  if (input.removals === null || typeof input.removals !== 'object') {
    throw new RangeError('removals must be an object of reason → count');
  }
  for (const key of Object.keys(input.removals)) {
    if (!isOneOf(removalReasons, key)) throw new RangeError(`unknown removal reason ${JSON.stringify(key)}`);
  }
  const removals = {} as Record<RemovalReason, number>;
  let removed = 0;
  for (const reason of removalReasons) {
    removals[reason] = assertCount(input.removals[reason], `removals.${reason}`);
    removed += removals[reason];
  }
  const decrease = deaths + removed + movedOut;
  const increase = movedIn + reRegistered;
  const verifiedCount = previousCount - decrease + increase;
  if (verifiedCount < 0) {
    throw new RangeError(
      `verified count would be negative: ${previousCount} − ${decrease} + ${increase} = ${verifiedCount}`,
    );
  }
  return {
    year: input.year,
    previousCount,
    deaths,
    removals,
    movedOut,
    movedIn,
    reRegistered,
    decrease,
    increase,
    verifiedCount,
  };
}

/* ------------------------------------------------------------------------ */
/* Support window 扶持期限                                                    */
/* ------------------------------------------------------------------------ */

/** How long a relocatee is supported. */
export interface SupportWindowRule {
  /** Moved on or before this date → supported from `start`. */
  cutoff: string;
  /** Start of support for those moved by the cutoff. */
  start: string;
  /** Length of support in years. */
  years: number;
}

const isoDateSchema = z.string().refine(isIsoDate, 'must be an ISO date YYYY-MM-DD');

/** The support window 扶持期限 (**param**, national default). */
export const supportWindowParameter: Parameter<SupportWindowRule> = defineParameter<SupportWindowRule>({
  id: 'subsidy.support_window',
  description:
    'Support window (扶持期限): relocatees moved on or before the cutoff are supported from the start date, later ones from their relocation date (搬迁日期), for a number of years.',
  schema: z
    .object({ cutoff: isoDateSchema, start: isoDateSchema, years: z.number().int().min(1).max(100) })
    .refine((r) => r.cutoff < r.start, 'cutoff must be before start'),
  national: [
    {
      from: '2006-07-01',
      value: { cutoff: '2006-06-30', start: '2006-07-01', years: 20 },
      source: '国发〔2006〕17号',
    },
  ],
  provinces: {},
});

function checkWindowRule(rule: SupportWindowRule): void {
  const parsed = supportWindowParameter.schema.safeParse(rule);
  if (!parsed.success) {
    throw new RangeError(`invalid support window rule: ${parsed.error.issues[0]?.message ?? 'rejected'}`);
  }
}

function previousDay(date: string): string {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  if (d > 1) return isoDate(y, m, d - 1);
  if (m > 1) return isoDate(y, m - 1, daysInMonth(y, m - 1));
  return isoDate(y - 1, 12, 31);
}

/**
 * The support window of a person moved on `relocationDate` 搬迁日期: moved on or
 * before `rule.cutoff` → from `rule.start`, otherwise from the relocation date;
 * until the day before the `years`-th anniversary, inclusive (`2006-07-01` + 20
 * years → `2026-06-30`; from 29 February, the anniversary in a common year is
 * 1 March, so `2008-02-29` + 1 year → `2009-02-28`). Throws RangeError on
 * invalid input.
 */
export function supportWindow(
  relocationDate: string,
  rule: SupportWindowRule,
): { from: string; until: string } {
  assertIsoDate(relocationDate, 'relocationDate');
  checkWindowRule(rule);
  const from = relocationDate <= rule.cutoff ? rule.start : relocationDate;
  const year = Number(from.slice(0, 4)) + rule.years;
  if (year > 9999) throw new RangeError(`support window from ${from} ends after 9999`);
  const month = Number(from.slice(5, 7));
  const day = Number(from.slice(8, 10));
  const until =
    month === 2 && day === 29 && !isLeapYear(year)
      ? isoDate(year, 2, 28)
      : previousDay(isoDate(year, month, day));
  return { from, until };
}

/**
 * True when a person with `status` is supported on `on`: registered 在册 and
 * `on` within their {@link supportWindow}. Throws RangeError on invalid input.
 */
export function isSupported(
  status: PersonStatus,
  relocationDate: string,
  on: string,
  rule: SupportWindowRule,
): boolean {
  if (!isOneOf(personStatuses, status))
    throw new RangeError(`unknown person status ${JSON.stringify(status)}`);
  assertIsoDate(on, 'on');
  const { from, until } = supportWindow(relocationDate, rule);
  return status === 'registered' && on >= from && on <= until;
}

/* ------------------------------------------------------------------------ */
/* Registration conflicts 重复登记                                             */
/* ------------------------------------------------------------------------ */

/**
 * The lowest division that sees both counties, which reviews a national ID
 * registered in both 重复登记: their city when they share one (not the `90`
 * pseudo-city of directly administered units 省直辖县级行政单位), else their
 * province when shared, else the nation `0`. The same county twice returns
 * that county. Throws RangeError unless both are county-level codes.
 */
export function reviewingDivision(countyA: number, countyB: number): number {
  for (const c of [countyA, countyB]) {
    if (!isDivisionCode(c) || divisionLevel(c) !== 'county') {
      throw new RangeError(`expected a county-level division code, got ${String(c)}`);
    }
  }
  if (countyA === countyB) return countyA;
  const cityA = parentDivision(countyA)!;
  const cityB = parentDivision(countyB)!;
  if (cityA === cityB && Math.floor(cityA / 100) % 100 !== 90) return cityA;
  const provinceA = parentDivision(cityA)!;
  const provinceB = parentDivision(cityB)!;
  return provinceA === provinceB ? provinceA : NATION;
}
