import { describe, expect, it } from 'vitest';
import {
  checkNewEvent,
  computeVerification,
  effectiveEvents,
  isSupported,
  latestStatus,
  type NewPersonEvent,
  type PersonEvent,
  type PersonEventKind,
  type PersonStatus,
  parameterValue,
  personEventKindLabels,
  personEventKinds,
  personStatuses,
  personStatusLabels,
  type RemovalEffectiveRule,
  relationshipLabels,
  relationships,
  relocateeKindLabels,
  relocateeKinds,
  removalEffectiveParameter,
  removalReasonLabels,
  removalReasons,
  removalTakesEffect,
  reviewingDivision,
  type StatusContext,
  type StatusTransitionError,
  type SupportWindowRule,
  statusOn,
  supportWindow,
  supportWindowParameter,
  type VerificationInput,
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

const REGISTERED = '2006-07-01';
const ctx = (removalRule: RemovalEffectiveRule, annualReviews?: Record<number, string>): StatusContext => ({
  registeredOn: REGISTERED,
  removalRule,
  ...(annualReviews ? { annualReviews } : {}),
});

describe('vocabularies', () => {
  it.each<[string, readonly string[], Readonly<Record<string, string>>]>([
    ['relationships', relationships, relationshipLabels],
    ['relocateeKinds', relocateeKinds, relocateeKindLabels],
    ['removalReasons', removalReasons, removalReasonLabels],
    ['personEventKinds', personEventKinds, personEventKindLabels],
    ['personStatuses', personStatuses, personStatusLabels],
  ])('%s: every value has a Chinese label and nothing else', (_name, list, labels) => {
    expect(Object.keys(labels).sort()).toEqual([...list].sort());
    for (const v of list) expect(labels[v]).toMatch(/\p{Script=Han}/u);
    expect(Object.isFrozen(labels)).toBe(true);
  });

  it.each<[Readonly<Record<string, string>>, string, string]>([
    [relationshipLabels, 'head', '户主'],
    [relationshipLabels, 'child_in_law', '儿媳/女婿'],
    [relocateeKindLabels, 'original', '原迁移民'],
    [removalReasonLabels, 'civil_servant', '公务员或财政供养人员'],
    [removalReasonLabels, 'non_agricultural_hukou', '转为非农业户口'],
    [removalReasonLabels, 'imprisonment', '服刑'],
    [personEventKindLabels, 'removed', '核减'],
    [personEventKindLabels, 're_registered', '重新登记'],
    [personEventKindLabels, 'correction', '更正'],
    [personStatusLabels, 'registered', '在册'],
    [personStatusLabels, 'not_registered', '未登记'],
  ])('label of %s.%s is %s', (labels, key, label) => {
    expect(labels[key]).toBe(label);
  });
});

describe('removalEffectiveParameter (DOMAIN.md: 新疆 next January; others at the annual review)', () => {
  it.each<[string, number, string, RemovalEffectiveRule]>([
    ['national default', 0, '2013-05-01', 'annual_review'],
    ['湖北 county uses the national default', 420581, '2013-05-01', 'annual_review'],
    ['新疆 province: next January', 650000, '2013-05-01', 'next_january'],
    ['新疆 county: next January', 650102, '2006-07-01', 'next_january'],
  ])('%s: (%i, %s) → %s', (_name, division, on, rule) => {
    expect(parameterValue(removalEffectiveParameter, division, on).value).toBe(rule);
  });

  it('has no value before the 2006 policy', () => {
    expect(() => parameterValue(removalEffectiveParameter, 650102, '2006-06-30')).toThrow(RangeError);
  });
});

describe('removalTakesEffect', () => {
  const reviews = { 2012: '2012-12-20', 2013: '2014-01-10' };
  it.each<[string, string, RemovalEffectiveRule, Record<number, string> | undefined, string | null]>([
    ['event_date → the event date', '2012-03-15', 'event_date', undefined, '2012-03-15'],
    ['next_january (DOMAIN.md: 新疆 rule)', '2012-03-15', 'next_january', undefined, '2013-01-01'],
    ['next_january on 31 December', '2012-12-31', 'next_january', undefined, '2013-01-01'],
    ['next_january on 1 January', '2012-01-01', 'next_january', undefined, '2013-01-01'],
    [
      'annual_review (DOMAIN.md: others) → submission date',
      '2012-03-15',
      'annual_review',
      reviews,
      '2012-12-20',
    ],
    ['annual_review submitted the next year', '2013-06-01', 'annual_review', reviews, '2014-01-10'],
    ['annual_review never before the event', '2012-12-28', 'annual_review', reviews, '2012-12-28'],
    ['annual_review not yet submitted → null', '2014-02-01', 'annual_review', reviews, null],
    ['annual_review without any reviews → null', '2012-03-15', 'annual_review', undefined, null],
  ])('%s', (_name, date, rule, annual, expected) => {
    expect(removalTakesEffect(date, rule, annual)).toBe(expected);
  });

  it.each<[string, string, string, Record<string, unknown> | undefined]>([
    ['bad event date', '2012-02-30', 'event_date', undefined],
    ['unknown rule', '2012-03-15', 'yearly', undefined],
    ['no next January after 9999', '9999-05-01', 'next_january', undefined],
    ['review date not ISO', '2012-03-15', 'annual_review', { 2012: '20.12.2012' }],
    ['review key not a year', '2012-03-15', 'annual_review', { abc: '2012-12-20' }],
    ['review submitted before its year', '2012-03-15', 'annual_review', { 2012: '2011-12-31' }],
  ])('%s → RangeError', (_name, date, rule, annual) => {
    expect(() =>
      removalTakesEffect(date, rule as RemovalEffectiveRule, annual as Record<number, string> | undefined),
    ).toThrow(RangeError);
  });
});

describe('statusOn', () => {
  const removed = ev('r1', 'removed', '2012-03-15', { reason: 'civil_servant' });
  const reviews = { 2012: '2012-12-20' };

  describe.each<[RemovalEffectiveRule, Record<number, string> | undefined, [string, PersonStatus][]]>([
    [
      'event_date',
      reviews,
      [
        ['2012-03-14', 'registered'],
        ['2012-03-15', 'removed'],
        ['2013-01-01', 'removed'],
      ],
    ],
    [
      'next_january',
      reviews,
      [
        ['2012-03-15', 'registered'],
        ['2012-12-31', 'registered'],
        ['2013-01-01', 'removed'],
      ],
    ],
    [
      'annual_review',
      reviews,
      [
        ['2012-03-15', 'registered'],
        ['2012-12-19', 'registered'],
        ['2012-12-20', 'removed'],
      ],
    ],
    [
      'annual_review',
      undefined,
      [
        ['2012-12-20', 'registered'],
        ['9999-12-31', 'registered'],
      ],
    ],
  ])('a removal on 2012-03-15 under %s (reviews %j)', (rule, annual, cases) => {
    it.each(cases)('on %s → %s', (on, expected) => {
      expect(statusOn([removed], on, ctx(rule, annual))).toBe(expected);
    });
  });

  it.each<[string, PersonEvent[], RemovalEffectiveRule, string, PersonStatus]>([
    ['before registration → not_registered', [], 'event_date', '2006-06-30', 'not_registered'],
    ['on the registration date → registered', [], 'event_date', '2006-07-01', 'registered'],
    [
      'moved_in at registration',
      [ev('m', 'moved_in', '2006-07-01')],
      'event_date',
      '2006-07-01',
      'registered',
    ],
    ['death', [ev('d', 'death', '2010-05-01')], 'event_date', '2010-05-01', 'deceased'],
    ['the day before a death', [ev('d', 'death', '2010-05-01')], 'event_date', '2010-04-30', 'registered'],
    [
      'moved out',
      [ev('o', 'moved_out', '2010-05-01')],
      'next_january', // moves are never delayed
      '2010-05-01',
      'moved_out',
    ],
    [
      'death is final: a later re-registration is ignored',
      [
        ev('o', 'moved_out', '2009-01-01'),
        ev('d', 'death', '2010-05-01'),
        ev('x', 're_registered', '2011-01-01'),
      ],
      'event_date',
      '2012-01-01',
      'deceased',
    ],
    [
      'death is final: a later moved_in is ignored',
      [ev('d', 'death', '2010-05-01'), ev('m', 'moved_in', '2011-01-01')],
      'event_date',
      '2012-01-01',
      'deceased',
    ],
    [
      'death before a pending removal takes effect',
      [ev('r', 'removed', '2012-03-15', { reason: 'imprisonment' }), ev('d', 'death', '2012-06-01')],
      'next_january',
      '2013-06-01',
      'deceased',
    ],
    [
      're-registration after a removal',
      [ev('r', 'removed', '2010-01-10', { reason: 'imprisonment' }), ev('x', 're_registered', '2012-05-01')],
      'event_date',
      '2012-05-01',
      'registered',
    ],
    [
      'still removed the day before re-registration',
      [ev('r', 'removed', '2010-01-10', { reason: 'imprisonment' }), ev('x', 're_registered', '2012-05-01')],
      'event_date',
      '2012-04-30',
      'removed',
    ],
    [
      're-registration after a move-out',
      [ev('o', 'moved_out', '2010-01-10'), ev('x', 're_registered', '2012-05-01')],
      'event_date',
      '2013-01-01',
      'registered',
    ],
    [
      're-registration of a registered person changes nothing',
      [ev('x', 're_registered', '2012-05-01'), ev('o', 'moved_out', '2013-01-01')],
      'event_date',
      '2013-01-01',
      'moved_out',
    ],
    [
      'moved_in after a move-out → registered',
      [ev('o', 'moved_out', '2010-01-10'), ev('m', 'moved_in', '2011-01-01')],
      'event_date',
      '2011-01-01',
      'registered',
    ],
    [
      're-registered before a delayed removal took effect: the removal never takes effect',
      [ev('r', 'removed', '2012-03-15', { reason: 'other' }), ev('x', 're_registered', '2012-08-01')],
      'next_january',
      '2013-06-01',
      'registered',
    ],
    [
      'a removed event voided by a correction',
      [
        ev('r', 'removed', '2010-01-10', { reason: 'civil_servant' }),
        ev('c', 'correction', '2010-02-01', { correctsId: 'r' }),
      ],
      'event_date',
      '2010-01-15',
      'registered',
    ],
    [
      'a death voided by a correction dated later still never happened',
      [ev('d', 'death', '2010-05-01'), ev('c', 'correction', '2011-01-01', { correctsId: 'd' })],
      'event_date',
      '2010-06-01',
      'registered',
    ],
    [
      'a corrected death followed by the right death',
      [
        ev('d', 'death', '2010-05-01'),
        ev('c', 'correction', '2011-01-01', { correctsId: 'd' }),
        ev('d2', 'death', '2010-09-01'),
      ],
      'event_date',
      '2010-06-01',
      'registered',
    ],
    [
      'same day: moved out then re-registered (by recordedAt)',
      [
        ev('o', 'moved_out', '2012-05-01', { recordedAt: '2012-05-01T10:00:00Z' }),
        ev('x', 're_registered', '2012-05-01', { recordedAt: '2012-05-01T11:00:00Z' }),
      ],
      'event_date',
      '2012-05-01',
      'registered',
    ],
    [
      'same day: re-registered recorded first, then moved out',
      [
        ev('o', 'moved_out', '2012-05-01', { recordedAt: '2012-05-01T11:00:00Z' }),
        ev('x', 're_registered', '2012-05-01', { recordedAt: '2012-05-01T10:00:00Z' }),
      ],
      'event_date',
      '2012-05-01',
      'moved_out',
    ],
    [
      'recordedAt compares instants across offsets (+08:00 10:00 is before 03:00Z)',
      [
        ev('o', 'moved_out', '2012-05-01', { recordedAt: '2012-05-01T10:00:00+08:00' }),
        ev('x', 're_registered', '2012-05-01', { recordedAt: '2012-05-01T03:00:00Z' }),
      ],
      'event_date',
      '2012-05-01',
      'registered',
    ],
  ])('%s', (_name, events, rule, on, expected) => {
    expect(statusOn(events, on, ctx(rule, { 2012: '2012-12-20' }))).toBe(expected);
  });

  it.each<[string, PersonEvent[], string, StatusContext]>([
    ['bad on date', [], '2012-13-01', ctx('event_date')],
    ['bad registeredOn', [], '2012-01-01', { registeredOn: '2006-7-1', removalRule: 'event_date' }],
    [
      'unknown rule',
      [],
      '2012-01-01',
      { registeredOn: REGISTERED, removalRule: 'never' as RemovalEffectiveRule },
    ],
    [
      'duplicate ids',
      [ev('a', 'death', '2010-01-01'), ev('a', 'moved_out', '2009-01-01')],
      '2012-01-01',
      ctx('event_date'),
    ],
    ['unknown kind', [ev('a', 'born' as PersonEventKind, '2010-01-01')], '2012-01-01', ctx('event_date')],
    ['bad effective date', [ev('a', 'death', '2010-02-30')], '2012-01-01', ctx('event_date')],
    [
      'bad recordedAt (no offset)',
      [ev('a', 'death', '2010-01-01', { recordedAt: '2010-01-01T09:00:00' })],
      '2012-01-01',
      ctx('event_date'),
    ],
    [
      'bad recordedAt (hour 24)',
      [ev('a', 'death', '2010-01-01', { recordedAt: '2010-01-01T24:00:00Z' })],
      '2012-01-01',
      ctx('event_date'),
    ],
    [
      'unknown removal reason',
      [ev('a', 'removed', '2010-01-01', { reason: 'emigrated' as 'other' })],
      '2012-01-01',
      ctx('event_date'),
    ],
    ['correction without correctsId', [ev('c', 'correction', '2010-01-01')], '2012-01-01', ctx('event_date')],
    [
      'correction of an unknown event',
      [ev('c', 'correction', '2010-01-01', { correctsId: 'nope' })],
      '2012-01-01',
      ctx('event_date'),
    ],
    [
      'correction of a correction',
      [
        ev('d', 'death', '2010-01-01'),
        ev('c1', 'correction', '2010-02-01', { correctsId: 'd' }),
        ev('c2', 'correction', '2010-03-01', { correctsId: 'c1' }),
      ],
      '2012-01-01',
      ctx('event_date'),
    ],
    [
      'correctsId on a non-correction',
      [ev('d', 'death', '2010-01-01'), ev('o', 'moved_out', '2009-01-01', { correctsId: 'd' })],
      '2012-01-01',
      ctx('event_date'),
    ],
  ])('%s → RangeError', (_name, events, on, context) => {
    expect(() => statusOn(events, on, context)).toThrow(RangeError);
  });
});

describe('effectiveEvents', () => {
  it.each<
    [string, PersonEvent[], RemovalEffectiveRule, Record<number, string> | undefined, [string, string][]]
  >([
    [
      'sorted by takesEffect; a removal moves to its effective date (next_january)',
      [
        ev('r', 'removed', '2012-03-15', { reason: 'other' }),
        ev('m', 'moved_in', '2006-07-01'),
        ev('o', 'moved_out', '2012-06-01'),
      ],
      'next_january',
      undefined,
      [
        ['m', '2006-07-01'],
        ['o', '2012-06-01'],
        ['r', '2013-01-01'],
      ],
    ],
    [
      'annual_review: not-yet-effective removals are dropped',
      [
        ev('r1', 'removed', '2012-03-15', { reason: 'other' }),
        ev('r2', 'removed', '2013-03-15', { reason: 'other' }),
      ],
      'annual_review',
      { 2012: '2013-01-20' },
      [['r1', '2013-01-20']],
    ],
    [
      'corrected events dropped, corrections kept on their own date',
      [ev('d', 'death', '2010-05-01'), ev('c', 'correction', '2010-06-01', { correctsId: 'd' })],
      'event_date',
      undefined,
      [['c', '2010-06-01']],
    ],
    [
      'same takesEffect: ordered by recordedAt, then id',
      [
        ev('b', 'moved_out', '2012-05-01', { recordedAt: '2012-05-01T08:00:00.000Z' }),
        ev('a', 're_registered', '2012-05-01', { recordedAt: '2012-05-01T08:00:00.000Z' }),
        ev('z', 'moved_in', '2012-05-01', { recordedAt: '2012-05-01T07:59:59.999999+00:00' }),
      ],
      'event_date',
      undefined,
      [
        ['z', '2012-05-01'],
        ['a', '2012-05-01'],
        ['b', '2012-05-01'],
      ],
    ],
    [
      'a removal overtaken by a re-registration before it takes effect is dropped',
      [ev('r', 'removed', '2012-03-15', { reason: 'other' }), ev('x', 're_registered', '2012-12-01')],
      'annual_review',
      { 2012: '2012-12-20' },
      [['x', '2012-12-01']],
    ],
    [
      'a re-registration after the removal took effect keeps both',
      [ev('r', 'removed', '2012-03-15', { reason: 'other' }), ev('x', 're_registered', '2013-02-01')],
      'annual_review',
      { 2012: '2012-12-20' },
      [
        ['r', '2012-12-20'],
        ['x', '2013-02-01'],
      ],
    ],
  ])('%s', (_name, events, rule, annual, expected) => {
    const out = effectiveEvents(events, ctx(rule, annual));
    expect(out.map((e) => [e.event.id, e.takesEffect])).toEqual(expected);
  });
});

describe('latestStatus', () => {
  it.each<[string, PersonEvent[], RemovalEffectiveRule, Record<number, string> | undefined, PersonStatus]>([
    ['no events → registered', [], 'event_date', undefined, 'registered'],
    [
      'removal pending review → registered',
      [ev('r', 'removed', '2012-03-15', { reason: 'other' })],
      'annual_review',
      undefined,
      'registered',
    ],
    [
      'removal after review → removed',
      [ev('r', 'removed', '2012-03-15', { reason: 'other' })],
      'annual_review',
      { 2012: '2012-12-20' },
      'removed',
    ],
    [
      'next_january applies whatever the date',
      [ev('r', 'removed', '2030-03-15', { reason: 'other' })],
      'next_january',
      undefined,
      'removed',
    ],
    ['moved out', [ev('o', 'moved_out', '2012-03-15')], 'event_date', undefined, 'moved_out'],
    ['death', [ev('d', 'death', '2012-03-15')], 'event_date', undefined, 'deceased'],
  ])('%s', (_name, events, rule, annual, expected) => {
    expect(latestStatus(events, ctx(rule, annual))).toBe(expected);
  });
});

describe('checkNewEvent', () => {
  const TODAY = '2014-06-30';
  const removedPending = ev('r', 'removed', '2012-03-15', { reason: 'civil_servant' });
  const movedOut = ev('o', 'moved_out', '2010-01-10');
  const death = ev('d', 'death', '2013-05-01');
  const correctedDeath = ev('c', 'correction', '2013-06-01', { correctsId: 'd' });

  it.each<[string, PersonEvent[], NewPersonEvent, StatusTransitionError['code'] | null]>([
    ['death of a registered person', [], { kind: 'death', effectiveDate: '2013-05-01' }, null],
    ['death on today', [], { kind: 'death', effectiveDate: TODAY }, null],
    ['death tomorrow', [], { kind: 'death', effectiveDate: '2014-07-01' }, 'future_date'],
    ['death before registration', [], { kind: 'death', effectiveDate: '2006-06-30' }, 'before_registration'],
    ['death on the registration date', [], { kind: 'death', effectiveDate: REGISTERED }, null],
    ['a second death', [death], { kind: 'death', effectiveDate: '2012-01-01' }, 'already_deceased'],
    [
      'death after a corrected death',
      [death, correctedDeath],
      { kind: 'death', effectiveDate: '2013-07-01' },
      null,
    ],
    [
      'move-out after death',
      [death],
      { kind: 'moved_out', effectiveDate: '2014-01-01', destinationCode: 110101 },
      'already_deceased',
    ],
    [
      'move-out before a recorded death',
      [death],
      { kind: 'moved_out', effectiveDate: '2012-01-01', destinationCode: 110101 },
      null,
    ],
    [
      'move-out with a destination',
      [],
      { kind: 'moved_out', effectiveDate: '2012-01-01', destinationCode: 650102 },
      null,
    ],
    [
      'move-out without a destination',
      [],
      { kind: 'moved_out', effectiveDate: '2012-01-01' },
      'destination_required',
    ],
    [
      'move-out to null',
      [],
      { kind: 'moved_out', effectiveDate: '2012-01-01', destinationCode: null },
      'destination_required',
    ],
    [
      'move-out to the nation',
      [],
      { kind: 'moved_out', effectiveDate: '2012-01-01', destinationCode: 0 },
      'destination_required',
    ],
    [
      'move-out of a moved-out person',
      [movedOut],
      { kind: 'moved_out', effectiveDate: '2012-01-01', destinationCode: 110101 },
      'not_registered',
    ],
    [
      'removal with a reason',
      [],
      { kind: 'removed', effectiveDate: '2012-01-01', reason: 'non_agricultural_hukou' },
      null,
    ],
    ['removal without a reason', [], { kind: 'removed', effectiveDate: '2012-01-01' }, 'reason_required'],
    [
      'removal with a null reason',
      [],
      { kind: 'removed', effectiveDate: '2012-01-01', reason: null },
      'reason_required',
    ],
    [
      'removal while a removal is pending review (read on the event date)',
      [removedPending],
      { kind: 'removed', effectiveDate: '2012-06-01', reason: 'other' },
      'not_registered',
    ],
    [
      'move-out while a removal is pending review',
      [removedPending],
      { kind: 'moved_out', effectiveDate: '2012-06-01', destinationCode: 110101 },
      'not_registered',
    ],
    [
      'move-out before the pending removal',
      [removedPending],
      { kind: 'moved_out', effectiveDate: '2012-03-14', destinationCode: 110101 },
      null,
    ],
    [
      're-registration after a pending removal',
      [removedPending],
      { kind: 're_registered', effectiveDate: '2012-08-01' },
      null,
    ],
    [
      're-registration after a move-out',
      [movedOut],
      { kind: 're_registered', effectiveDate: '2012-08-01' },
      null,
    ],
    [
      're-registration of a registered person',
      [],
      { kind: 're_registered', effectiveDate: '2012-08-01' },
      'not_removed_or_moved',
    ],
    [
      're-registration before the move-out',
      [movedOut],
      { kind: 're_registered', effectiveDate: '2010-01-09' },
      'not_removed_or_moved',
    ],
    [
      're-registration of a deceased person',
      [death],
      { kind: 're_registered', effectiveDate: '2014-01-01' },
      'already_deceased',
    ],
    [
      'moved_in is only recorded at registration',
      [],
      { kind: 'moved_in', effectiveDate: '2012-01-01' },
      'unknown_event',
    ],
    [
      'correction of an existing event',
      [death],
      { kind: 'correction', effectiveDate: '2014-01-01', correctsId: 'd' },
      null,
    ],
    [
      'correction without correctsId',
      [death],
      { kind: 'correction', effectiveDate: '2014-01-01' },
      'unknown_event',
    ],
    [
      'correction of an unknown event',
      [death],
      { kind: 'correction', effectiveDate: '2014-01-01', correctsId: 'zz' },
      'unknown_event',
    ],
    [
      'correction of an already corrected event',
      [death, correctedDeath],
      { kind: 'correction', effectiveDate: '2014-01-01', correctsId: 'd' },
      'already_corrected',
    ],
    [
      'correction of a correction',
      [death, correctedDeath],
      { kind: 'correction', effectiveDate: '2014-01-01', correctsId: 'c' },
      'cannot_correct_correction',
    ],
    [
      'correction dated in the future',
      [death],
      { kind: 'correction', effectiveDate: '2014-07-01', correctsId: 'd' },
      'future_date',
    ],
  ])('%s → %s', (_name, existing, next, expected) => {
    const result = checkNewEvent(existing, next, { ...ctx('annual_review'), today: TODAY });
    expect(result?.code ?? null).toBe(expected);
    if (result) expect(result.message).not.toBe('');
  });

  it.each<[string, NewPersonEvent, string]>([
    ['unknown kind', { kind: 'born' as PersonEventKind, effectiveDate: '2012-01-01' }, TODAY],
    ['bad effective date', { kind: 'death', effectiveDate: '2012-02-30' }, TODAY],
    ['unknown reason', { kind: 'removed', effectiveDate: '2012-01-01', reason: 'x' as 'other' }, TODAY],
    [
      'invalid destination code',
      { kind: 'moved_out', effectiveDate: '2012-01-01', destinationCode: 420010 },
      TODAY,
    ],
    ['bad today', { kind: 'death', effectiveDate: '2012-01-01' }, '2014/06/30'],
  ])('%s → RangeError', (_name, next, today) => {
    expect(() => checkNewEvent([], next, { ...ctx('event_date'), today })).toThrow(RangeError);
  });
});

describe('computeVerification (年度核定, 增人不增，减人要减)', () => {
  const none = { civil_servant: 0, non_agricultural_hukou: 0, imprisonment: 0, other: 0 };
  it.each<[string, VerificationInput, number, number, number]>([
    [
      'seed 000: 9,868 − 89 deaths = 9,779 (DOMAIN.md figures)',
      {
        year: 2013,
        previousCount: 9868,
        deaths: 89,
        removals: none,
        movedOut: 0,
        movedIn: 0,
        reRegistered: 0,
      },
      89,
      0,
      9779,
    ],
    [
      'mixed: removals of every reason, transfers and returns',
      {
        year: 2014,
        previousCount: 1000,
        deaths: 5,
        removals: { civil_servant: 2, non_agricultural_hukou: 3, imprisonment: 1, other: 0 },
        movedOut: 4,
        movedIn: 7,
        reRegistered: 2,
      },
      15,
      9,
      994,
    ],
    [
      'nothing changes',
      { year: 2015, previousCount: 500, deaths: 0, removals: none, movedOut: 0, movedIn: 0, reRegistered: 0 },
      0,
      0,
      500,
    ],
    [
      'down to zero',
      {
        year: 2015,
        previousCount: 3,
        deaths: 1,
        removals: { ...none, other: 1 },
        movedOut: 1,
        movedIn: 0,
        reRegistered: 0,
      },
      3,
      0,
      0,
    ],
  ])('%s', (_name, input, decrease, increase, verifiedCount) => {
    const r = computeVerification(input);
    expect(r).toMatchObject({ ...input, decrease, increase, verifiedCount });
  });

  const ok: VerificationInput = {
    year: 2013,
    previousCount: 10,
    deaths: 1,
    removals: none,
    movedOut: 0,
    movedIn: 0,
    reRegistered: 0,
  };
  it.each<[string, Partial<Record<keyof VerificationInput, unknown>>]>([
    ['negative deaths', { deaths: -1 }],
    ['fractional previous count', { previousCount: 10.5 }],
    ['NaN moved in', { movedIn: Number.NaN }],
    ['negative re-registered', { reRegistered: -2 }],
    ['negative removal', { removals: { ...none, imprisonment: -1 } }],
    ['missing removal reason', { removals: { civil_servant: 1 } }],
    ['unknown removal reason', { removals: { ...none, emigrated: 1 } }],
    ['negative result', { previousCount: 1, deaths: 2 }],
    ['year not an integer', { year: 2013.5 }],
    ['year out of range', { year: 1900 }],
  ])('%s → RangeError', (_name, patch) => {
    expect(() => computeVerification({ ...ok, ...patch } as VerificationInput)).toThrow(RangeError);
  });
});

describe('supportWindow / isSupported (扶持期限, 国发〔2006〕17号)', () => {
  const rule = parameterValue(supportWindowParameter, 420581, '2013-01-01').value;

  it('national rule: cutoff 2006-06-30, start 2006-07-01, 20 years', () => {
    expect(rule).toEqual({ cutoff: '2006-06-30', start: '2006-07-01', years: 20 });
    expect(() => parameterValue(supportWindowParameter, 0, '2006-06-30')).toThrow(RangeError);
  });

  it.each<[string, string, SupportWindowRule | null, string, string]>([
    ['moved long before the cutoff → from 2006-07-01', '1995-05-10', null, '2006-07-01', '2026-06-30'],
    ['moved on the cutoff 2006-06-30 → from 2006-07-01', '2006-06-30', null, '2006-07-01', '2026-06-30'],
    ['moved on 2006-07-01 → from the move', '2006-07-01', null, '2006-07-01', '2026-06-30'],
    ['moved on 2006-07-02 → from the move', '2006-07-02', null, '2006-07-02', '2026-07-01'],
    ['moved on 1 January', '2010-01-01', null, '2010-01-01', '2029-12-31'],
    ['moved on a leap day, leap end year', '2008-02-29', null, '2008-02-29', '2028-02-28'],
    ['ends on a leap day', '2008-03-01', null, '2008-03-01', '2028-02-29'],
    ['ends before 1 March in a common year', '2007-03-01', null, '2007-03-01', '2027-02-28'],
    [
      'leap day + 1 year ends 28 February',
      '2008-02-29',
      { cutoff: '2006-06-30', start: '2006-07-01', years: 1 },
      '2008-02-29',
      '2009-02-28',
    ],
    [
      'leap day + 4 years ends 28 February',
      '2008-02-29',
      { cutoff: '2006-06-30', start: '2006-07-01', years: 4 },
      '2008-02-29',
      '2012-02-28',
    ],
  ])('%s: %s', (_name, relocated, custom, from, until) => {
    expect(supportWindow(relocated, custom ?? rule)).toEqual({ from, until });
  });

  it.each<[string, PersonStatus, string, string, boolean]>([
    ['registered, first day', 'registered', '1995-05-10', '2006-07-01', true],
    ['registered, before the window', 'registered', '1995-05-10', '2006-06-30', false],
    ['registered, last day', 'registered', '1995-05-10', '2026-06-30', true],
    ['registered, after the window', 'registered', '1995-05-10', '2026-07-01', false],
    ['registered, before a later move', 'registered', '2010-04-01', '2010-03-31', false],
    ['registered, on a later move', 'registered', '2010-04-01', '2010-04-01', true],
    ['removed', 'removed', '1995-05-10', '2013-01-01', false],
    ['moved out', 'moved_out', '1995-05-10', '2013-01-01', false],
    ['deceased', 'deceased', '1995-05-10', '2013-01-01', false],
    ['not registered', 'not_registered', '1995-05-10', '2013-01-01', false],
  ])('%s → %s', (_name, status, relocated, on, expected) => {
    expect(isSupported(status, relocated, on, rule)).toBe(expected);
  });

  it.each<[string, () => unknown]>([
    ['bad relocation date', () => supportWindow('2006-02-30', rule)],
    ['zero years', () => supportWindow('2006-01-01', { ...rule, years: 0 })],
    ['cutoff after start', () => supportWindow('2006-01-01', { ...rule, cutoff: '2006-07-02' })],
    ['bad cutoff', () => supportWindow('2006-01-01', { ...rule, cutoff: '2006-06-31' })],
    ['past year 9999', () => supportWindow('9990-01-01', rule)],
    ['bad on date', () => isSupported('registered', '2006-01-01', '2013-1-1', rule)],
    ['unknown status', () => isSupported('alive' as PersonStatus, '2006-01-01', '2013-01-01', rule)],
  ])('%s → RangeError', (_name, fn) => {
    expect(fn).toThrow(RangeError);
  });
});

describe('reviewingDivision (DOMAIN.md: the lowest level that sees both)', () => {
  it.each<[string, number, number, number]>([
    ['same city → the city', 420581, 420582, 420500],
    ['same city, either order', 420582, 420581, 420500],
    ['directly administered units (city digits 90) → the province', 429004, 429005, 420000],
    ['a directly administered unit and a city county → the province', 429004, 420581, 420000],
    ['same province, different cities → the province', 420581, 420106, 420000],
    ['different provinces → the nation', 420581, 110101, 0],
    ['same county → that county', 420581, 420581, 420581],
  ])('%s: (%i, %i) → %i', (_name, a, b, expected) => {
    expect(reviewingDivision(a, b)).toBe(expected);
  });

  it.each<[number, number]>([
    [420500, 420581],
    [420581, 420000],
    [0, 420581],
    [420581, 420010],
  ])('(%i, %i) → RangeError (counties only)', (a, b) => {
    expect(() => reviewingDivision(a, b)).toThrow(RangeError);
  });
});
