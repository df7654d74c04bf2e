/**
 * Direct subsidy 直补资金发放: the annual standard 扶持标准, how often it is paid
 * 发放频次, how it is paid 扶持方式 (to the person, as projects, or both), each
 * period's share of the annual standard, and whether a person is entitled to a
 * payment for a period 发放资格.
 *
 * Pure rules: every date is passed in as ISO `YYYY-MM-DD`; money is integer fen 分.
 */

import { z } from 'zod';
import { assertIsoDate } from './internal/calendar.js';
import { isOneOf } from './internal/checks.js';
import { assertFen, type Fen } from './money.js';
import { defineParameter, type Parameter } from './parameters.js';
import { type Period, type PeriodKind, parsePeriod } from './periods.js';
import {
  type PersonEvent,
  type PersonStatus,
  type RemovalEffectiveRule,
  type SupportWindowRule,
  statusOn,
  supportWindow,
} from './registry.js';

/* ------------------------------------------------------------------------ */
/* Payment frequency 发放频次                                                 */
/* ------------------------------------------------------------------------ */

/** Payment frequency 发放频次: how many times a year the direct subsidy is paid. */
export const paymentFrequencies = ['annual', 'semi_annual', 'quarterly', 'monthly'] as const;
/** One payment frequency. */
export type PaymentFrequency = (typeof paymentFrequencies)[number];
/** Chinese labels of {@link paymentFrequencies}. */
export const paymentFrequencyLabels: Readonly<Record<PaymentFrequency, string>> = Object.freeze({
  annual: '按年',
  semi_annual: '按半年',
  quarterly: '按季',
  monthly: '按月',
});
/** Zod schema for a payment frequency. */
export const paymentFrequencySchema = z.enum(paymentFrequencies);

const FREQUENCY_KIND: Readonly<Record<PaymentFrequency, PeriodKind>> = Object.freeze({
  annual: 'year',
  semi_annual: 'half',
  quarterly: 'quarter',
  monthly: 'month',
});
const FREQUENCY_COUNT: Readonly<Record<PaymentFrequency, 1 | 2 | 4 | 12>> = Object.freeze({
  annual: 1,
  semi_annual: 2,
  quarterly: 4,
  monthly: 12,
});

function assertFrequency(f: unknown): asserts f is PaymentFrequency {
  if (!isOneOf(paymentFrequencies, f)) {
    throw new RangeError(
      `payment frequency must be one of ${paymentFrequencies.join(', ')}, got ${JSON.stringify(f)}`,
    );
  }
}

/** The kind of period paid at frequency `f`: annual → `year`, semi_annual → `half`, quarterly → `quarter`, monthly → `month`. */
export function periodKindOf(f: PaymentFrequency): PeriodKind {
  assertFrequency(f);
  return FREQUENCY_KIND[f];
}

/** How many periods a year frequency `f` has: 1, 2, 4 or 12. */
export function periodsPerYear(f: PaymentFrequency): 1 | 2 | 4 | 12 {
  assertFrequency(f);
  return FREQUENCY_COUNT[f];
}

/* ------------------------------------------------------------------------ */
/* Parameters                                                                */
/* ------------------------------------------------------------------------ */

/** The annual standard 扶持标准 in fen per person per year (**param**): 600 yuan nationally. */
export const annualStandardParameter: Parameter<number> = defineParameter<number>({
  id: 'subsidy.annual_standard',
  description:
    'Annual standard of the direct subsidy (扶持标准), in fen per person per year: 600 yuan (60000 fen) nationally.',
  schema: z.number().int().min(1).max(10_000_000),
  national: [{ from: '2006-07-01', value: 60_000, source: '国发〔2006〕17号' }],
  provinces: {},
});

/** How often the direct subsidy is paid 发放频次 (**param**, set by each province). */
export const paymentFrequencyParameter: Parameter<PaymentFrequency> = defineParameter<PaymentFrequency>({
  id: 'subsidy.payment_frequency',
  description:
    'How often the direct subsidy is paid (发放频次): annual, semi-annual, quarterly or monthly; set by each province.',
  schema: paymentFrequencySchema,
  national: [
    {
      from: '2006-07-01',
      value: 'semi_annual',
      source:
        'DOMAIN.md: Direct subsidy: seed 000 pays one semi-annual payment; the frequency is set by each province',
    },
  ],
  provinces: {},
});

/* ------------------------------------------------------------------------ */
/* Payment mode 扶持方式                                                      */
/* ------------------------------------------------------------------------ */

/** Payment mode 扶持方式: to the person, as projects, or both. */
export const paymentModes = ['cash', 'project', 'both'] as const;
/** One payment mode. */
export type PaymentMode = (typeof paymentModes)[number];
/** Chinese labels of {@link paymentModes}. */
export const paymentModeLabels: Readonly<Record<PaymentMode, string>> = Object.freeze({
  cash: '直补到人',
  project: '项目扶持',
  both: '直补与项目结合',
});
/** Zod schema for a payment mode. */
export const paymentModeSchema = z.enum(paymentModes);

/**
 * A payment mode with the share paid to the person: `cash` → `cashPercent`
 * 100; `project` → 0; `both` → 1..99 (the share paid to the person, the rest
 * becomes project funds).
 */
export interface PaymentModeSetting {
  mode: PaymentMode;
  cashPercent: number;
}

/** Zod schema for a {@link PaymentModeSetting}: cash ⇔ 100, project ⇔ 0, both ⇔ 1..99. */
export const paymentModeSettingSchema: z.ZodType<PaymentModeSetting> = z
  .object({ mode: paymentModeSchema, cashPercent: z.number().int().min(0).max(100) })
  .refine(
    (s) =>
      s.mode === 'cash'
        ? s.cashPercent === 100
        : s.mode === 'project'
          ? s.cashPercent === 0
          : s.cashPercent >= 1 && s.cashPercent <= 99,
    {
      message: 'cashPercent must be 100 for cash, 0 for project and 1..99 for both',
      path: ['cashPercent'],
    },
  );

/** How the direct subsidy is paid 扶持方式 (**param**; counties and villages may set their own). */
export const paymentModeParameter: Parameter<PaymentModeSetting> = defineParameter<PaymentModeSetting>({
  id: 'subsidy.payment_mode',
  description:
    'How the direct subsidy is paid (扶持方式): to individuals (直补到人), as projects (项目扶持) or both, with the share paid to the person; counties and villages may decide otherwise.',
  schema: paymentModeSettingSchema,
  national: [
    {
      from: '2006-07-01',
      value: { mode: 'cash', cashPercent: 100 },
      source: '国发〔2006〕17号 (paid to individuals; project or mixed support by county/village decision)',
    },
  ],
  provinces: {},
});

function checkSetting(setting: unknown, what: string): PaymentModeSetting {
  const parsed = paymentModeSettingSchema.safeParse(setting);
  if (!parsed.success) {
    throw new RangeError(`${what}: invalid payment mode: ${parsed.error.issues[0]?.message ?? 'rejected'}`);
  }
  return parsed.data;
}

/** A county's or village's own dated payment mode 扶持方式 (stored in the database). */
export interface PaymentModeEntry {
  /** First day in force, ISO `YYYY-MM-DD`, inclusive. */
  from: string;
  setting: PaymentModeSetting;
}

function latestEntry(
  entries: readonly PaymentModeEntry[],
  on: string,
  what: string,
): PaymentModeSetting | null {
  if (!Array.isArray(entries)) throw new RangeError(`${what} payment modes must be an array`);
  const seen = new Set<string>();
  let found: PaymentModeEntry | null = null;
  for (const [i, e] of (entries as readonly PaymentModeEntry[]).entries()) {
    const at = `${what} payment mode #${i}`;
    if (e === null || typeof e !== 'object') throw new RangeError(`${at} must be an object`);
    assertIsoDate(e.from, `${at}: from`);
    if (seen.has(e.from)) throw new RangeError(`${at}: two payment modes from ${e.from}`);
    seen.add(e.from);
    checkSetting(e.setting, at);
    if (e.from <= on && (found === null || e.from > found.from)) found = e;
  }
  return found === null ? null : checkSetting(found.setting, what);
}

/**
 * The payment mode in force on `on` for a village: the village's own latest
 * entry with `from <= on`, else its county's, else `fallback` (the value of
 * {@link paymentModeParameter}). Entries may come in any order. Throws
 * RangeError on a bad date, an invalid setting, or two entries of one list
 * with the same `from`.
 */
export function resolvePaymentMode(
  on: string,
  village: readonly PaymentModeEntry[],
  county: readonly PaymentModeEntry[],
  fallback: PaymentModeSetting,
): PaymentModeSetting {
  assertIsoDate(on, 'on');
  const fromVillage = latestEntry(village, on, 'village');
  const fromCounty = latestEntry(county, on, 'county');
  const fromFallback = checkSetting(fallback, 'fallback');
  return fromVillage ?? fromCounty ?? fromFallback;
}

/* ------------------------------------------------------------------------ */
/* Amounts                                                                   */
/* ------------------------------------------------------------------------ */

function assertAmount(n: unknown, what: string): Fen {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what} must be a non-negative integer number of fen, got ${String(n)}`);
  }
  return assertFen(n);
}

/** Validates `period` against its name; returns its 1-based index within its year. */
function periodIndex(period: Period): number {
  if (period === null || typeof period !== 'object') throw new RangeError('period must be an object');
  const parsed = parsePeriod(period.name);
  if (parsed.kind !== period.kind || parsed.start !== period.start || parsed.end !== period.end) {
    throw new RangeError(
      `period ${JSON.stringify(period.name)} does not match its kind or dates (${period.kind} ${period.start}..${period.end})`,
    );
  }
  switch (parsed.kind) {
    case 'year':
      return 1;
    case 'half':
    case 'quarter':
      return Number(parsed.name.slice(6));
    case 'month':
      return Number(parsed.name.slice(5));
  }
}

/** floor(a * k / n) for safe non-negative `a`, without overflow. */
function floorShare(a: number, k: number, n: number): number {
  const r = a % n;
  const q = (a - r) / n; // exact: a − r is a multiple of n
  return q * k + Math.floor((r * k) / n);
}

/**
 * The period's share of the annual standard, exact over a year (largest
 * remainder): the k-th of n periods gets floor(annual·k/n) − floor(annual·(k−1)/n),
 * so the shares of a year always sum to `annualFen`. 60000 semi-annual → 30000
 * each half; 70000 monthly → 5833 or 5834 a month, 70000 in the year.
 * Throws RangeError when the period kind is not the one of `frequency`, on an
 * invalid period, or when `annualFen` is not a non-negative safe integer.
 */
export function periodAmount(annualFen: Fen, period: Period, frequency: PaymentFrequency): Fen {
  assertAmount(annualFen, 'annual standard');
  const kind = periodKindOf(frequency);
  const k = periodIndex(period);
  if (period.kind !== kind) {
    throw new RangeError(
      `period ${period.name} is a ${period.kind}, but a ${frequency} payment is made by ${kind}`,
    );
  }
  const n = FREQUENCY_COUNT[frequency];
  return floorShare(annualFen, k, n) - floorShare(annualFen, k - 1, n);
}

/**
 * Splits an amount by payment mode: `cashFen` = floor(amount × cashPercent /
 * 100) is paid to the person, `projectFen` (the rest) becomes project funds.
 * 30000 at 70% → 21000 / 9000; 33333 at 70% → 23333 / 10000. Throws RangeError
 * on a negative or non-integer amount or an invalid setting.
 */
export function splitByMode(amountFen: Fen, setting: PaymentModeSetting): { cashFen: Fen; projectFen: Fen } {
  assertAmount(amountFen, 'amount');
  const { cashPercent } = checkSetting(setting, 'splitByMode');
  const cashFen = floorShare(amountFen, cashPercent, 100);
  return { cashFen, projectFen: amountFen - cashFen };
}

/* ------------------------------------------------------------------------ */
/* Entitlement 发放资格                                                       */
/* ------------------------------------------------------------------------ */

/** Why a person is not paid (in full) for a period; results list them in this order. */
export const entitlementReasons = [
  'not_yet_registered',
  'deceased',
  'moved_out',
  'removed',
  'window_not_started',
  'window_ended',
  'project_mode',
  'no_bank_account',
  'already_paid',
] as const;
/** One reason a person is not paid (in full). */
export type EntitlementReason = (typeof entitlementReasons)[number];
/** Chinese labels of {@link entitlementReasons}. */
export const entitlementReasonLabels: Readonly<Record<EntitlementReason, string>> = Object.freeze({
  not_yet_registered: '未登记',
  deceased: '已死亡',
  moved_out: '已迁出',
  removed: '已核减',
  window_not_started: '扶持期未开始',
  window_ended: '扶持期已满',
  project_mode: '项目扶持',
  no_bank_account: '无银行账户',
  already_paid: '本期已发放',
});
/** Zod schema for an entitlement reason. */
export const entitlementReasonSchema = z.enum(entitlementReasons);

/** The policy in force for a person's village in a period. */
export interface EntitlementPolicy {
  /** From {@link annualStandardParameter}. */
  annualStandardFen: Fen;
  /** From {@link paymentFrequencyParameter}. */
  frequency: PaymentFrequency;
  /** From `supportWindowParameter`. */
  supportWindow: SupportWindowRule;
  /** Already resolved for the person's village ({@link resolvePaymentMode}). */
  paymentMode: PaymentModeSetting;
}

/** What the entitlement rule needs to know about a person and a period. */
export interface EntitlementInput {
  period: Period;
  /** Date the person entered the registry 登记日期. */
  registeredOn: string;
  /** Date the move was completed 搬迁日期. */
  relocationDate: string;
  events: readonly PersonEvent[];
  /** The removal rule in force (`removalEffectiveParameter`). */
  removalRule: RemovalEffectiveRule;
  /** Year → ISO date the county submitted that year's verification 年度核定. */
  annualReviews?: Readonly<Record<number, string>>;
  hasBankAccount: boolean;
  /** Paid for this period already (another batch, or the same ID in another county). */
  alreadyPaid: boolean;
  policy: EntitlementPolicy;
}

/** A person's entitlement for a period. */
export interface Entitlement {
  /** A payment line with `cashFen > 0` is due in this batch. */
  eligible: boolean;
  /** Status on the period's first day. */
  status: PersonStatus;
  /** The person's support window 扶持期限, inclusive. */
  window: { from: string; until: string };
  /** The period's entitlement before the mode split (0 when none). */
  amountFen: Fen;
  /** Paid to the person now (0 unless eligible). */
  cashFen: Fen;
  /** Becomes project funds 项目资金. */
  projectFen: Fen;
  /** Every reason that applies, in {@link entitlementReasons} order; `[]` iff eligible. */
  reasons: EntitlementReason[];
}

const STATUS_REASON: Readonly<Partial<Record<PersonStatus, EntitlementReason>>> = Object.freeze({
  not_registered: 'not_yet_registered',
  deceased: 'deceased',
  moved_out: 'moved_out',
  removed: 'removed',
});

function assertBoolean(v: unknown, what: string): void {
  if (typeof v !== 'boolean') throw new RangeError(`${what} must be a boolean, got ${String(v)}`);
}

/**
 * A person's entitlement 发放资格 to the direct subsidy for one period. Whole
 * periods, no pro-rating; everything is judged on the period's FIRST day
 * (`period.start`):
 * 1. status = `statusOn(events, period.start, { registeredOn, removalRule, annualReviews })`;
 * 2. window = `supportWindow(relocationDate, policy.supportWindow)`; in window when
 *    `window.from <= start <= window.until`, else `window_not_started` (start before
 *    from) or `window_ended` (start after until);
 * 3. status reasons: not_registered → `not_yet_registered`; deceased, moved_out and
 *    removed → the reason of the same name;
 * 4. share = {@link periodAmount} of the annual standard (the period kind must match
 *    the frequency);
 * 5. out of the window, or not_registered, deceased or moved_out: nothing (amount,
 *    cash and project 0);
 * 6. removed 核减 within the window: the share becomes project funds (cash 0);
 * 7. registered within the window: amount = share, split by the payment mode:
 *    - no cash part (mode `project`, or a cash share that rounds to 0) → `project_mode`,
 *      the share becomes project funds; no other reason is given (no cash is due);
 *    - else no bank account → `no_bank_account`, cash and project 0 (held back);
 *    - else already paid → `already_paid`, cash and project 0;
 *    - else eligible: cash and project per {@link splitByMode}, no reasons.
 * Status and window reasons combine (e.g. `deceased` + `window_ended`); the amounts
 * follow the first matching case above. Throws RangeError on invalid input (bad
 * dates or history, bad amounts or policy, period kind not matching the frequency).
 */
export function entitlement(input: EntitlementInput): Entitlement {
  if (input === null || typeof input !== 'object')
    throw new RangeError('entitlement input must be an object');
  const { period, policy } = input;
  if (policy === null || typeof policy !== 'object') throw new RangeError('policy must be an object');
  const annual = annualStandardParameter.schema.safeParse(policy.annualStandardFen);
  if (!annual.success) {
    throw new RangeError(
      `annual standard must be an integer number of fen 1..10000000, got ${String(policy.annualStandardFen)}`,
    );
  }
  const mode = checkSetting(policy.paymentMode, 'policy');
  assertBoolean(input.hasBankAccount, 'hasBankAccount');
  assertBoolean(input.alreadyPaid, 'alreadyPaid');
  assertIsoDate(input.registeredOn, 'registeredOn');

  const share = periodAmount(annual.data, period, policy.frequency);
  const start = period.start;
  const status = statusOn(input.events, start, {
    registeredOn: input.registeredOn,
    removalRule: input.removalRule,
    ...(input.annualReviews != null ? { annualReviews: input.annualReviews } : {}),
  });
  const window = supportWindow(input.relocationDate, policy.supportWindow);

  const reasons = new Set<EntitlementReason>();
  const statusReason = STATUS_REASON[status];
  if (statusReason !== undefined) reasons.add(statusReason);
  if (start < window.from) reasons.add('window_not_started');
  if (start > window.until) reasons.add('window_ended');
  const inWindow = start >= window.from && start <= window.until;

  let amountFen = 0;
  let cashFen = 0;
  let projectFen = 0;
  if (!inWindow || status === 'not_registered' || status === 'deceased' || status === 'moved_out') {
    // nothing is due
  } else if (status === 'removed') {
    amountFen = share;
    projectFen = share;
  } else {
    amountFen = share;
    const split = splitByMode(share, mode);
    if (mode.mode === 'project' || split.cashFen === 0) {
      reasons.add('project_mode');
      projectFen = share;
    } else if (!input.hasBankAccount) {
      // Checked before a payment elsewhere: whether someone was already paid is only known once a
      // line is attempted (the database's unique index), and no line is attempted without an account.
      reasons.add('no_bank_account');
    } else if (input.alreadyPaid) {
      reasons.add('already_paid');
    } else {
      cashFen = split.cashFen;
      projectFen = split.projectFen;
    }
  }

  return {
    eligible: reasons.size === 0,
    status,
    window,
    amountFen,
    cashFen,
    projectFen,
    reasons: entitlementReasons.filter((r) => reasons.has(r)),
  };
}
