import { describe, expect, it } from 'vitest';
import {
  annualStandardParameter,
  type Entitlement,
  type EntitlementInput,
  type EntitlementPolicy,
  type EntitlementReason,
  entitlement,
  entitlementReasonLabels,
  entitlementReasonSchema,
  entitlementReasons,
  formatYuan,
  type PaymentFrequency,
  type PaymentModeEntry,
  type PaymentModeSetting,
  type PeriodKind,
  type PersonEvent,
  type PersonEventKind,
  type PersonStatus,
  parameterValue,
  parsePeriod,
  paymentFrequencies,
  paymentFrequencyLabels,
  paymentFrequencyParameter,
  paymentFrequencySchema,
  paymentModeLabels,
  paymentModeParameter,
  paymentModeSchema,
  paymentModeSettingSchema,
  paymentModes,
  periodAmount,
  periodKindOf,
  periodsPerYear,
  resolvePaymentMode,
  splitByMode,
  sumFen,
  supportWindowParameter,
} from '../src/index.js';

/** An event recorded at 09:00 UTC on its effective date unless told otherwise. */
function ev(
  id: string,
  kind: PersonEventKind,
  effectiveDate: string,
  extra: Partial<PersonEvent> = {},
): PersonEvent {
  return { id, kind, effectiveDate, recordedAt: `${effectiveDate}T09:00:00.000Z`, ...extra };
}

const CASH: PaymentModeSetting = { mode: 'cash', cashPercent: 100 };
const PROJECT: PaymentModeSetting = { mode: 'project', cashPercent: 0 };
const BOTH70: PaymentModeSetting = { mode: 'both', cashPercent: 70 };

describe('vocabularies', () => {
  it.each<[string, readonly string[], Readonly<Record<string, string>>]>([
    ['paymentFrequencies', paymentFrequencies, paymentFrequencyLabels],
    ['paymentModes', paymentModes, paymentModeLabels],
    ['entitlementReasons', entitlementReasons, entitlementReasonLabels],
  ])('%s: every value has a Chinese label and nothing else', (_name, list, labels) => {
    expect(Object.keys(labels).sort()).toEqual([...list].sort());
    for (const v of list) expect(labels[v]).toMatch(/\p{Script=Han}/u);
    expect(Object.isFrozen(labels)).toBe(true);
  });

  it.each<[Readonly<Record<string, string>>, string, string]>([
    [paymentFrequencyLabels, 'annual', '按年'],
    [paymentFrequencyLabels, 'semi_annual', '按半年'],
    [paymentFrequencyLabels, 'quarterly', '按季'],
    [paymentFrequencyLabels, 'monthly', '按月'],
    [paymentModeLabels, 'cash', '直补到人'],
    [paymentModeLabels, 'project', '项目扶持'],
    [paymentModeLabels, 'both', '直补与项目结合'],
    [entitlementReasonLabels, 'not_yet_registered', '未登记'],
    [entitlementReasonLabels, 'removed', '已核减'],
    [entitlementReasonLabels, 'window_ended', '扶持期已满'],
    [entitlementReasonLabels, 'no_bank_account', '无银行账户'],
    [entitlementReasonLabels, 'already_paid', '本期已发放'],
  ])('label of %s.%s is %s', (labels, key, label) => {
    expect(labels[key]).toBe(label);
  });

  it('reasons are listed in the fixed result order', () => {
    expect([...entitlementReasons]).toEqual([
      'not_yet_registered',
      'deceased',
      'moved_out',
      'removed',
      'window_not_started',
      'window_ended',
      'project_mode',
      'no_bank_account',
      'already_paid',
    ]);
  });

  it('schemas enumerate the constant lists', () => {
    expect(paymentFrequencySchema.options).toEqual([...paymentFrequencies]);
    expect(paymentModeSchema.options).toEqual([...paymentModes]);
    expect(entitlementReasonSchema.options).toEqual([...entitlementReasons]);
  });
});

describe('periodKindOf / periodsPerYear', () => {
  it.each<[PaymentFrequency, PeriodKind, number]>([
    ['annual', 'year', 1],
    ['semi_annual', 'half', 2],
    ['quarterly', 'quarter', 4],
    ['monthly', 'month', 12],
  ])('%s → %s, %i a year', (f, kind, n) => {
    expect(periodKindOf(f)).toBe(kind);
    expect(periodsPerYear(f)).toBe(n);
  });

  it('throws on an unknown frequency', () => {
    expect(() => periodKindOf('weekly' as PaymentFrequency)).toThrow(RangeError);
    expect(() => periodsPerYear('toString' as PaymentFrequency)).toThrow(RangeError);
  });
});

describe('subsidy parameters', () => {
  it.each<[string, number, string, unknown, string]>([
    ['annual standard, nation (国发〔2006〕17号: 600 yuan)', 0, '2006-07-01', 60_000, '国发〔2006〕17号'],
    ['annual standard, a 湖北 county', 420581, '2013-01-01', 60_000, '国发〔2006〕17号'],
  ])('%s', (_name, division, on, value, source) => {
    const v = parameterValue(annualStandardParameter, division, on);
    expect(v.value).toBe(value);
    expect(v.source).toBe(source);
  });

  it('payment frequency: semi-annual by default (DOMAIN.md seed 000: one semi-annual payment)', () => {
    const v = parameterValue(paymentFrequencyParameter, 420581, '2013-01-01');
    expect(v.value).toBe('semi_annual');
    expect(v.source).toMatch(/DOMAIN\.md/);
    expect(v.source).toMatch(/seed 000/);
  });

  it('payment mode: paid to individuals by default (国发〔2006〕17号)', () => {
    const v = parameterValue(paymentModeParameter, 650102, '2013-01-01');
    expect(v.value).toEqual(CASH);
    expect(v.source).toMatch(/国发〔2006〕17号/);
  });

  it.each([annualStandardParameter, paymentFrequencyParameter, paymentModeParameter])(
    '$id has no value before the 2006 policy',
    (p) => {
      expect(() => parameterValue(p as typeof annualStandardParameter, 0, '2006-06-30')).toThrow(RangeError);
    },
  );

  it.each<[unknown, boolean]>([
    [60_000, true],
    [1, true],
    [10_000_000, true],
    [0, false],
    [10_000_001, false],
    [600.5, false],
    ['60000', false],
  ])('annual standard schema accepts %j → %s', (value, ok) => {
    expect(annualStandardParameter.schema.safeParse(value).success).toBe(ok);
  });

  it.each<[unknown, boolean]>([
    [{ mode: 'cash', cashPercent: 100 }, true],
    [{ mode: 'project', cashPercent: 0 }, true],
    [{ mode: 'both', cashPercent: 70 }, true],
    [{ mode: 'both', cashPercent: 1 }, true],
    [{ mode: 'both', cashPercent: 99 }, true],
    [{ mode: 'cash', cashPercent: 70 }, false],
    [{ mode: 'project', cashPercent: 100 }, false],
    [{ mode: 'both', cashPercent: 0 }, false],
    [{ mode: 'both', cashPercent: 100 }, false],
    [{ mode: 'both', cashPercent: 50.5 }, false],
    [{ mode: 'both', cashPercent: -1 }, false],
    [{ mode: 'mixed', cashPercent: 50 }, false],
    [{ mode: 'cash' }, false],
    [null, false],
  ])('paymentModeSettingSchema %j → %s', (value, ok) => {
    expect(paymentModeSettingSchema.safeParse(value).success).toBe(ok);
  });
});

describe('periodAmount (largest remainder, exact over a year)', () => {
  it.each<[string, number, string, PaymentFrequency, number]>([
    ['annual (国发〔2006〕17号: 600 yuan a year)', 60_000, '2013', 'annual', 60_000],
    ['semi-annual H1 (DOMAIN.md seed 000: 300 yuan)', 60_000, '2013-H1', 'semi_annual', 30_000],
    ['semi-annual H2', 60_000, '2013-H2', 'semi_annual', 30_000],
    ['quarterly', 60_000, '2013-Q3', 'quarterly', 15_000],
    ['monthly', 60_000, '2013-07', 'monthly', 5_000],
    ['70000 monthly, January', 70_000, '2013-01', 'monthly', 5_833],
    ['70000 monthly, February', 70_000, '2013-02', 'monthly', 5_833],
    ['70000 monthly, March', 70_000, '2013-03', 'monthly', 5_834],
    ['70000 monthly, December', 70_000, '2013-12', 'monthly', 5_834],
    ['odd annual, H1 rounds down', 60_001, '2013-H1', 'semi_annual', 30_000],
    ['odd annual, H2 takes the remainder', 60_001, '2013-H2', 'semi_annual', 30_001],
    ['zero annual', 0, '2013-Q1', 'quarterly', 0],
    ['small annual, monthly', 5, '2013-01', 'monthly', 0],
  ])('%s: %i fen, %s, %s → %i', (_name, annual, period, frequency, expected) => {
    expect(periodAmount(annual, parsePeriod(period), frequency)).toBe(expected);
  });

  const names: Record<PaymentFrequency, string[]> = {
    annual: [''],
    semi_annual: ['-H1', '-H2'],
    quarterly: ['-Q1', '-Q2', '-Q3', '-Q4'],
    monthly: ['-01', '-02', '-03', '-04', '-05', '-06', '-07', '-08', '-09', '-10', '-11', '-12'],
  };
  it.each<[number, PaymentFrequency]>([
    [70_000, 'monthly'],
    [60_000, 'monthly'],
    [60_001, 'quarterly'],
    [99_999, 'monthly'],
    [7, 'monthly'],
    [1, 'semi_annual'],
    [10_000_000, 'quarterly'],
    [Number.MAX_SAFE_INTEGER, 'monthly'],
  ])('%i fen %s: the periods sum to the annual amount, each floor or ceil of the mean', (annual, f) => {
    const shares = names[f].map((s) => periodAmount(annual, parsePeriod(`2013${s}`), f));
    expect(shares).toHaveLength(periodsPerYear(f));
    expect(sumFen(shares)).toBe(annual);
    const n = periodsPerYear(f);
    for (const s of shares) {
      expect(Number.isSafeInteger(s)).toBe(true);
      expect([Math.floor(annual / n), Math.ceil(annual / n)]).toContain(s);
    }
  });

  it.each<[string, () => unknown]>([
    ['a month paid semi-annually', () => periodAmount(60_000, parsePeriod('2013-01'), 'semi_annual')],
    ['a half-year paid monthly', () => periodAmount(60_000, parsePeriod('2013-H1'), 'monthly')],
    ['a year paid quarterly', () => periodAmount(60_000, parsePeriod('2013'), 'quarterly')],
    ['negative annual', () => periodAmount(-1, parsePeriod('2013'), 'annual')],
    ['fractional annual', () => periodAmount(600.5, parsePeriod('2013'), 'annual')],
    ['NaN annual', () => periodAmount(Number.NaN, parsePeriod('2013'), 'annual')],
    ['unknown frequency', () => periodAmount(60_000, parsePeriod('2013'), 'weekly' as PaymentFrequency)],
    [
      'period whose kind does not match its name',
      () => periodAmount(60_000, { ...parsePeriod('2013-H1'), kind: 'month' }, 'monthly'),
    ],
    [
      'period whose dates do not match its name',
      () => periodAmount(60_000, { ...parsePeriod('2013-H1'), start: '2013-02-01' }, 'semi_annual'),
    ],
    [
      'unparseable period name',
      () => periodAmount(60_000, { name: '2013-H3', kind: 'half', start: 'x', end: 'y' }, 'semi_annual'),
    ],
  ])('%s → RangeError', (_name, call) => {
    expect(call).toThrow(RangeError);
  });
});

describe('splitByMode', () => {
  it.each<[string, number, PaymentModeSetting, number, number]>([
    ['cash: all to the person', 30_000, CASH, 30_000, 0],
    ['project: all to projects', 30_000, PROJECT, 0, 30_000],
    ['both 70%: 21000 / 9000', 30_000, BOTH70, 21_000, 9_000],
    ['both 70% of an odd amount rounds cash down', 30_001, BOTH70, 21_000, 9_001],
    ['both 70% of 5833', 5_833, BOTH70, 4_083, 1_750],
    ['both 1% of 99 fen → 0 cash', 99, { mode: 'both', cashPercent: 1 }, 0, 99],
    ['both 99% of 1 fen', 1, { mode: 'both', cashPercent: 99 }, 0, 1],
    ['zero amount', 0, BOTH70, 0, 0],
    [
      'large amounts stay exact',
      Number.MAX_SAFE_INTEGER,
      { mode: 'both', cashPercent: 50 },
      4_503_599_627_370_495,
      4_503_599_627_370_496,
    ],
  ])('%s', (_name, amount, setting, cashFen, projectFen) => {
    expect(splitByMode(amount, setting)).toEqual({ cashFen, projectFen });
  });

  it.each<[string, number, PaymentModeSetting]>([
    ['negative amount', -1, CASH],
    ['fractional amount', 1.5, CASH],
    ['cash with 70%', 100, { mode: 'cash', cashPercent: 70 }],
    ['both with 0%', 100, { mode: 'both', cashPercent: 0 }],
    ['unknown mode', 100, { mode: 'mixed' as 'both', cashPercent: 50 }],
  ])('%s → RangeError', (_name, amount, setting) => {
    expect(() => splitByMode(amount, setting)).toThrow(RangeError);
  });
});

describe('resolvePaymentMode (village → county → parameter)', () => {
  const county: PaymentModeEntry[] = [
    { from: '2015-01-01', setting: BOTH70 },
    { from: '2010-01-01', setting: PROJECT },
  ];
  const village: PaymentModeEntry[] = [{ from: '2012-07-01', setting: { mode: 'both', cashPercent: 50 } }];
  it.each<[string, string, PaymentModeEntry[], PaymentModeEntry[], PaymentModeSetting]>([
    ['nothing set → the parameter value', '2013-01-01', [], [], CASH],
    ['before any county entry → the parameter value', '2009-12-31', [], county, CASH],
    ['county entry in force (unsorted list)', '2010-01-01', [], county, PROJECT],
    ['latest county entry', '2016-01-01', [], county, BOTH70],
    ['village entry not yet in force → county', '2012-06-30', village, county, PROJECT],
    ['village entry wins over the county', '2012-07-01', village, county, { mode: 'both', cashPercent: 50 }],
    [
      'village entry wins over a later county entry',
      '2016-01-01',
      village,
      county,
      { mode: 'both', cashPercent: 50 },
    ],
    ['village without county', '2013-01-01', village, [], { mode: 'both', cashPercent: 50 }],
  ])('%s', (_name, on, v, c, expected) => {
    expect(resolvePaymentMode(on, v, c, CASH)).toEqual(expected);
  });

  it.each<[string, () => unknown]>([
    ['bad date', () => resolvePaymentMode('2013-02-30', [], [], CASH)],
    [
      'bad entry date',
      () => resolvePaymentMode('2013-01-01', [{ from: '2013/01/01', setting: CASH }], [], CASH),
    ],
    [
      'invalid entry setting',
      () =>
        resolvePaymentMode(
          '2013-01-01',
          [],
          [{ from: '2012-01-01', setting: { mode: 'cash', cashPercent: 50 } }],
          CASH,
        ),
    ],
    [
      'two entries from the same date',
      () =>
        resolvePaymentMode(
          '2013-01-01',
          [
            { from: '2012-01-01', setting: CASH },
            { from: '2012-01-01', setting: PROJECT },
          ],
          [],
          CASH,
        ),
    ],
    [
      'invalid fallback',
      () => resolvePaymentMode('2013-01-01', [], [], { mode: 'project', cashPercent: 10 }),
    ],
  ])('%s → RangeError', (_name, call) => {
    expect(call).toThrow(RangeError);
  });
});

/* ------------------------------------------------------------------------ */
/* Entitlement                                                               */
/* ------------------------------------------------------------------------ */

const windowRule = parameterValue(supportWindowParameter, 420581, '2013-01-01').value;
const basePolicy: EntitlementPolicy = {
  annualStandardFen: 60_000,
  frequency: 'semi_annual',
  supportWindow: windowRule,
  paymentMode: CASH,
};

interface Case {
  period?: string;
  registeredOn?: string;
  relocationDate?: string;
  events?: PersonEvent[];
  removalRule?: EntitlementInput['removalRule'];
  annualReviews?: Record<number, string>;
  hasBankAccount?: boolean;
  alreadyPaid?: boolean;
  policy?: Partial<EntitlementPolicy>;
}

/** A person moved in 2005 (before the cutoff) and registered on 2006-07-01, paid semi-annually in cash. */
function input(c: Case = {}): EntitlementInput {
  return {
    period: parsePeriod(c.period ?? '2013-H1'),
    registeredOn: c.registeredOn ?? '2006-07-01',
    relocationDate: c.relocationDate ?? '2005-10-01',
    events: c.events ?? [],
    removalRule: c.removalRule ?? 'annual_review',
    ...(c.annualReviews ? { annualReviews: c.annualReviews } : {}),
    hasBankAccount: c.hasBankAccount ?? true,
    alreadyPaid: c.alreadyPaid ?? false,
    policy: { ...basePolicy, ...c.policy },
  };
}

type Expect = [
  status: PersonStatus,
  amountFen: number,
  cashFen: number,
  projectFen: number,
  reasons: EntitlementReason[],
];

function check(result: Entitlement, [status, amountFen, cashFen, projectFen, reasons]: Expect) {
  expect(result.status).toBe(status);
  expect(result.reasons).toEqual(reasons);
  expect(result.eligible).toBe(reasons.length === 0);
  expect({ amountFen: result.amountFen, cashFen: result.cashFen, projectFen: result.projectFen }).toEqual({
    amountFen,
    cashFen,
    projectFen,
  });
  if (result.eligible) expect(result.cashFen).toBeGreaterThan(0);
  else expect(result.cashFen).toBe(0);
}

const PAID: Expect = ['registered', 30_000, 30_000, 0, []];

describe('entitlement: registration (whole periods, judged on the first day)', () => {
  it.each<[string, Case, Expect]>([
    ['registered long before → paid in full', {}, PAID],
    ['registered on the period’s first day → paid', { registeredOn: '2013-01-01' }, PAID],
    [
      'registered mid-period (a late registration in a 2005 household) → not yet registered',
      { registeredOn: '2013-03-15' },
      ['not_registered', 0, 0, 0, ['not_yet_registered']],
    ],
    [
      'registered 2013-03-15 → paid from the next period',
      { period: '2013-H2', registeredOn: '2013-03-15' },
      PAID,
    ],
    [
      'registered on the second day → not yet registered',
      { registeredOn: '2013-01-02' },
      ['not_registered', 0, 0, 0, ['not_yet_registered']],
    ],
  ])('%s', (_name, c, expected) => {
    check(entitlement(input(c)), expected);
  });
});

describe('entitlement: deaths and moves (DOMAIN.md: status from dated events)', () => {
  it.each<[string, Case, Expect]>([
    [
      'died before the period',
      { events: [ev('d', 'death', '2012-12-31')] },
      ['deceased', 0, 0, 0, ['deceased']],
    ],
    [
      'died on the period’s first day',
      { events: [ev('d', 'death', '2013-01-01')] },
      ['deceased', 0, 0, 0, ['deceased']],
    ],
    [
      'died the day after the first day → paid the whole period',
      { events: [ev('d', 'death', '2013-01-02')] },
      PAID,
    ],
    [
      'died in H1 → nothing for H2',
      { period: '2013-H2', events: [ev('d', 'death', '2013-05-01')] },
      ['deceased', 0, 0, 0, ['deceased']],
    ],
    [
      'a death voided by a correction → paid',
      { events: [ev('d', 'death', '2012-05-01'), ev('c', 'correction', '2012-06-01', { correctsId: 'd' })] },
      PAID,
    ],
    [
      'moved out before the period',
      { events: [ev('o', 'moved_out', '2012-11-01')] },
      ['moved_out', 0, 0, 0, ['moved_out']],
    ],
    ['moved out during the period → paid', { events: [ev('o', 'moved_out', '2013-02-01')] }, PAID],
    [
      'moved out, re-registered during the period → not this period',
      { events: [ev('o', 'moved_out', '2012-11-01'), ev('x', 're_registered', '2013-06-01')] },
      ['moved_out', 0, 0, 0, ['moved_out']],
    ],
    [
      'moved out, re-registered → paid from the next period',
      {
        period: '2013-H2',
        events: [ev('o', 'moved_out', '2012-11-01'), ev('x', 're_registered', '2013-06-01')],
      },
      PAID,
    ],
    [
      'deceased and out of the window: both reasons, in order',
      { period: '2026-H2', events: [ev('d', 'death', '2020-03-01')] },
      ['deceased', 0, 0, 0, ['deceased', 'window_ended']],
    ],
    [
      'deceased, no bank account, already paid: only the status reason',
      { events: [ev('d', 'death', '2012-12-01')], hasBankAccount: false, alreadyPaid: true },
      ['deceased', 0, 0, 0, ['deceased']],
    ],
  ])('%s', (_name, c, expected) => {
    check(entitlement(input(c)), expected);
  });
});

describe('entitlement: removals 核减 (DOMAIN.md: the money becomes project funds)', () => {
  const removal = ev('r', 'removed', '2012-03-15', { reason: 'civil_servant' });
  const REMOVED: Expect = ['removed', 30_000, 0, 30_000, ['removed']];
  it.each<[string, Case, Expect]>([
    [
      'event_date: removed from the event date on',
      { period: '2012-H2', removalRule: 'event_date', events: [removal] },
      REMOVED,
    ],
    [
      'event_date: paid for the period the removal falls in',
      { period: '2012-H1', removalRule: 'event_date', events: [removal] },
      PAID,
    ],
    [
      'next_january (DOMAIN.md: 新疆): still paid for 2012-H2',
      { period: '2012-H2', removalRule: 'next_january', events: [removal] },
      PAID,
    ],
    [
      'next_january (DOMAIN.md: 新疆): removed from 2013-01-01',
      { period: '2013-H1', removalRule: 'next_january', events: [removal] },
      REMOVED,
    ],
    [
      'annual_review pending (DOMAIN.md: others): still paid',
      { period: '2013-H1', removalRule: 'annual_review', events: [removal] },
      PAID,
    ],
    [
      'annual_review submitted 2012-12-20: removed for 2013-H1',
      {
        period: '2013-H1',
        removalRule: 'annual_review',
        annualReviews: { 2012: '2012-12-20' },
        events: [removal],
      },
      REMOVED,
    ],
    [
      'annual_review submitted 2012-12-20: still paid for 2012-H2',
      {
        period: '2012-H2',
        removalRule: 'annual_review',
        annualReviews: { 2012: '2012-12-20' },
        events: [removal],
      },
      PAID,
    ],
    [
      'annual_review submitted 2013-01-10: paid for 2013-H1',
      {
        period: '2013-H1',
        removalRule: 'annual_review',
        annualReviews: { 2012: '2013-01-10' },
        events: [removal],
      },
      PAID,
    ],
    [
      'annual_review submitted 2013-01-10: removed for 2013-H2',
      {
        period: '2013-H2',
        removalRule: 'annual_review',
        annualReviews: { 2012: '2013-01-10' },
        events: [removal],
      },
      REMOVED,
    ],
    [
      'removed then re-registered 2013-05-01: removed for 2013-H1',
      {
        period: '2013-H1',
        removalRule: 'event_date',
        events: [removal, ev('x', 're_registered', '2013-05-01')],
      },
      REMOVED,
    ],
    [
      'removed then re-registered 2013-05-01: paid again for 2013-H2',
      {
        period: '2013-H2',
        removalRule: 'event_date',
        events: [removal, ev('x', 're_registered', '2013-05-01')],
      },
      PAID,
    ],
    [
      'a removal voided by a correction → paid',
      {
        removalRule: 'event_date',
        events: [removal, ev('c', 'correction', '2012-04-01', { correctsId: 'r' })],
      },
      PAID,
    ],
    [
      'removed in project mode: only the status reason, the share to projects',
      { removalRule: 'event_date', events: [removal], policy: { paymentMode: PROJECT } },
      REMOVED,
    ],
    [
      'removed without a bank account: only the status reason',
      { removalRule: 'event_date', events: [removal], hasBankAccount: false },
      REMOVED,
    ],
    [
      'removed and out of the window: nothing, both reasons',
      { period: '2026-H2', removalRule: 'event_date', events: [removal] },
      ['removed', 0, 0, 0, ['removed', 'window_ended']],
    ],
  ])('%s', (_name, c, expected) => {
    check(entitlement(input(c)), expected);
  });
});

describe('entitlement: support window 扶持期限 (国发〔2006〕17号: 20 years; cutoff 2006-06-30)', () => {
  const ENDED: Expect = ['registered', 0, 0, 0, ['window_ended']];
  it.each<[string, Case, Expect, { from: string; until: string }]>([
    [
      'moved 2006-06-30: paid for 2006-H2',
      { period: '2006-H2', relocationDate: '2006-06-30' },
      PAID,
      { from: '2006-07-01', until: '2026-06-30' },
    ],
    [
      'moved 2006-06-30, registered early: 2006-H1 not started',
      { period: '2006-H1', relocationDate: '2006-06-30', registeredOn: '2006-01-01' },
      ['registered', 0, 0, 0, ['window_not_started']],
      { from: '2006-07-01', until: '2026-06-30' },
    ],
    [
      'moved 2006-06-30: 2006-H1 neither registered nor started (reason order)',
      { period: '2006-H1', relocationDate: '2006-06-30' },
      ['not_registered', 0, 0, 0, ['not_yet_registered', 'window_not_started']],
      { from: '2006-07-01', until: '2026-06-30' },
    ],
    [
      'moved 2006-06-30: 2026-H1 is the last period paid',
      { period: '2026-H1', relocationDate: '2006-06-30' },
      PAID,
      { from: '2006-07-01', until: '2026-06-30' },
    ],
    [
      'moved 2006-06-30: 2026-H2 window ended',
      { period: '2026-H2', relocationDate: '2006-06-30' },
      ENDED,
      { from: '2006-07-01', until: '2026-06-30' },
    ],
    [
      'moved 2006-06-30, monthly: 2026-06 paid',
      { period: '2026-06', relocationDate: '2006-06-30', policy: { frequency: 'monthly' } },
      ['registered', 5_000, 5_000, 0, []],
      { from: '2006-07-01', until: '2026-06-30' },
    ],
    [
      'moved 2006-06-30, monthly: 2026-07 window ended',
      { period: '2026-07', relocationDate: '2006-06-30', policy: { frequency: 'monthly' } },
      ENDED,
      { from: '2006-07-01', until: '2026-06-30' },
    ],
    [
      'moved 2006-07-01 (from the move date, the same window)',
      { period: '2026-H1', relocationDate: '2006-07-01' },
      PAID,
      { from: '2006-07-01', until: '2026-06-30' },
    ],
    [
      'moved 2006-07-01: 2026-H2 window ended',
      { period: '2026-H2', relocationDate: '2006-07-01' },
      ENDED,
      { from: '2006-07-01', until: '2026-06-30' },
    ],
    [
      'moved 2006-07-02: 2006-H2 starts before the window',
      { period: '2006-H2', relocationDate: '2006-07-02', registeredOn: '2006-06-01' },
      ['registered', 0, 0, 0, ['window_not_started']],
      { from: '2006-07-02', until: '2026-07-01' },
    ],
    [
      'moved 2006-07-02: 2026-H2 starts on the last day → paid',
      { period: '2026-H2', relocationDate: '2006-07-02' },
      PAID,
      { from: '2006-07-02', until: '2026-07-01' },
    ],
    [
      'relocated 2010-03-15: 2010-H1 neither registered nor started (reason order)',
      { period: '2010-H1', relocationDate: '2010-03-15', registeredOn: '2010-03-15' },
      ['not_registered', 0, 0, 0, ['not_yet_registered', 'window_not_started']],
      { from: '2010-03-15', until: '2030-03-14' },
    ],
    [
      'relocated 2010-03-15: paid from 2010-H2',
      { period: '2010-H2', relocationDate: '2010-03-15', registeredOn: '2010-03-15' },
      PAID,
      { from: '2010-03-15', until: '2030-03-14' },
    ],
    [
      'relocated 2010-03-15: 2030-H1 starts within the window → paid in full',
      { period: '2030-H1', relocationDate: '2010-03-15', registeredOn: '2010-03-15' },
      PAID,
      { from: '2010-03-15', until: '2030-03-14' },
    ],
    [
      'relocated 2010-03-15: 2030-H2 window ended',
      { period: '2030-H2', relocationDate: '2010-03-15', registeredOn: '2010-03-15' },
      ENDED,
      { from: '2010-03-15', until: '2030-03-14' },
    ],
    [
      'relocated 2010-03-15, quarterly: 2030-Q1 paid',
      {
        period: '2030-Q1',
        relocationDate: '2010-03-15',
        registeredOn: '2010-03-15',
        policy: { frequency: 'quarterly' },
      },
      ['registered', 15_000, 15_000, 0, []],
      { from: '2010-03-15', until: '2030-03-14' },
    ],
    [
      'relocated 2010-03-15, quarterly: 2030-Q2 window ended',
      {
        period: '2030-Q2',
        relocationDate: '2010-03-15',
        registeredOn: '2010-03-15',
        policy: { frequency: 'quarterly' },
      },
      ENDED,
      { from: '2010-03-15', until: '2030-03-14' },
    ],
    [
      'window ended in project mode without an account: only window_ended',
      {
        period: '2027-H1',
        relocationDate: '2006-06-30',
        hasBankAccount: false,
        alreadyPaid: true,
        policy: { paymentMode: PROJECT },
      },
      ENDED,
      { from: '2006-07-01', until: '2026-06-30' },
    ],
  ])('%s', (_name, c, expected, window) => {
    const result = entitlement(input(c));
    check(result, expected);
    expect(result.window).toEqual(window);
  });
});

describe('entitlement: frequencies (DOMAIN.md: param by province)', () => {
  it.each<[string, PaymentFrequency, number]>([
    ['2013', 'annual', 60_000],
    ['2013-H2', 'semi_annual', 30_000],
    ['2013-Q2', 'quarterly', 15_000],
    ['2013-11', 'monthly', 5_000],
  ])('%s %s → %i fen', (period, frequency, amount) => {
    check(entitlement(input({ period, policy: { frequency } })), ['registered', amount, amount, 0, []]);
  });

  it('a 70000 annual standard paid monthly sums to 70000 over the 12 months', () => {
    const months = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];
    const paid = months.map(
      (m) =>
        entitlement(
          input({ period: `2013-${m}`, policy: { annualStandardFen: 70_000, frequency: 'monthly' } }),
        ).cashFen,
    );
    for (const p of paid) expect([5_833, 5_834]).toContain(p);
    expect(sumFen(paid)).toBe(70_000);
  });

  it('a period kind not matching the frequency throws', () => {
    expect(() => entitlement(input({ period: '2013-01' }))).toThrow(RangeError);
    expect(() => entitlement(input({ period: '2013', policy: { frequency: 'quarterly' } }))).toThrow(
      RangeError,
    );
  });
});

describe('entitlement: payment modes, bank accounts, double payment (DOMAIN.md: Payment modes)', () => {
  it.each<[string, Case, Expect]>([
    ['cash', {}, PAID],
    [
      'project mode: the share becomes project funds',
      { policy: { paymentMode: PROJECT } },
      ['registered', 30_000, 0, 30_000, ['project_mode']],
    ],
    [
      'project mode without an account and already paid: only project_mode (no cash is due)',
      { policy: { paymentMode: PROJECT }, hasBankAccount: false, alreadyPaid: true },
      ['registered', 30_000, 0, 30_000, ['project_mode']],
    ],
    [
      'both 70%: 21000 cash, 9000 project',
      { policy: { paymentMode: BOTH70 } },
      ['registered', 30_000, 21_000, 9_000, []],
    ],
    [
      'both 70% of an odd share rounds cash down (60001 fen a year, H2 = 30001)',
      { period: '2013-H2', policy: { annualStandardFen: 60_001, paymentMode: BOTH70 } },
      ['registered', 30_001, 21_000, 9_001, []],
    ],
    [
      'both 70% monthly of 70000 (5834 in March → 4083 / 1751)',
      { period: '2013-03', policy: { annualStandardFen: 70_000, frequency: 'monthly', paymentMode: BOTH70 } },
      ['registered', 5_834, 4_083, 1_751, []],
    ],
    [
      'a cash part rounding to 0 → project_mode (1% of 83 fen)',
      {
        period: '2013-01',
        policy: {
          annualStandardFen: 1_000,
          frequency: 'monthly',
          paymentMode: { mode: 'both', cashPercent: 1 },
        },
      },
      ['registered', 83, 0, 83, ['project_mode']],
    ],
    [
      'no bank account: held back, nothing to projects',
      { hasBankAccount: false },
      ['registered', 30_000, 0, 0, ['no_bank_account']],
    ],
    [
      'no bank account in mixed mode: held back entirely',
      { hasBankAccount: false, policy: { paymentMode: BOTH70 } },
      ['registered', 30_000, 0, 0, ['no_bank_account']],
    ],
    [
      'already paid (another batch or county)',
      { alreadyPaid: true },
      ['registered', 30_000, 0, 0, ['already_paid']],
    ],
    [
      'already paid and no bank account: only no_bank_account (no line is attempted without one)',
      { alreadyPaid: true, hasBankAccount: false },
      ['registered', 30_000, 0, 0, ['no_bank_account']],
    ],
    [
      'already paid in mixed mode: no project funds either',
      { alreadyPaid: true, policy: { paymentMode: BOTH70 } },
      ['registered', 30_000, 0, 0, ['already_paid']],
    ],
  ])('%s', (_name, c, expected) => {
    check(entitlement(input(c)), expected);
  });
});

describe('entitlement: invalid input', () => {
  it.each<[string, Case | (() => EntitlementInput)]>([
    ['bad registeredOn', { registeredOn: '2013-02-30' }],
    ['bad relocationDate', { relocationDate: '2013/01/01' }],
    ['bad event', { events: [ev('d', 'death', '2013-13-01')] }],
    ['unknown removal rule', { removalRule: 'never' as EntitlementInput['removalRule'] }],
    ['bad annual review', { annualReviews: { 2012: '2011-01-01' } }],
    ['annual standard 0', { policy: { annualStandardFen: 0 } }],
    ['fractional annual standard', { policy: { annualStandardFen: 600.5 } }],
    ['unknown frequency', { policy: { frequency: 'weekly' as PaymentFrequency } }],
    ['invalid payment mode', { policy: { paymentMode: { mode: 'cash', cashPercent: 70 } } }],
    ['invalid window rule', { policy: { supportWindow: { ...windowRule, years: 0 } } }],
    ['hasBankAccount not a boolean', () => ({ ...input(), hasBankAccount: 'yes' as unknown as boolean })],
    ['alreadyPaid not a boolean', () => ({ ...input(), alreadyPaid: undefined as unknown as boolean })],
    ['tampered period', () => ({ ...input(), period: { ...parsePeriod('2013-H1'), end: '2013-12-31' } })],
  ])('%s → RangeError', (_name, c) => {
    const i = typeof c === 'function' ? c() : input(c);
    expect(() => entitlement(i)).toThrow(RangeError);
  });
});

describe('seed 000: one semi-annual payment (DOMAIN.md: 9,868 people, 2,960,400 yuan)', () => {
  it('9,868 eligible persons × 30000 fen = 296,040,000 fen = 2,960,400.00 yuan', () => {
    const annual = parameterValue(annualStandardParameter, 420581, '2013-01-01').value;
    const frequency = parameterValue(paymentFrequencyParameter, 420581, '2013-01-01').value;
    const paymentMode = resolvePaymentMode(
      '2013-01-01',
      [],
      [],
      parameterValue(paymentModeParameter, 420581, '2013-01-01').value,
    );
    const policy: EntitlementPolicy = {
      annualStandardFen: annual,
      frequency,
      supportWindow: windowRule,
      paymentMode,
    };
    const results = Array.from({ length: 9_868 }, () => entitlement({ ...input(), policy }));
    expect(results.every((r) => r.eligible)).toBe(true);
    const total = sumFen(results.map((r) => r.cashFen));
    expect(total).toBe(296_040_000);
    expect(formatYuan(total)).toBe('2,960,400.00');
    expect(sumFen(results.map((r) => r.projectFen))).toBe(0);
  });
});
