import { describe, expect, it } from 'vitest';
import {
  checkDigit,
  maskBankAccount,
  maskNationalId,
  type NationalIdError,
  parseNationalId,
  scrubSensitive,
} from '../src/index.js';

/** Builds a valid ID from its first 17 digits. */
const withCheck = (first17: string): string => first17 + checkDigit(first17);

/** Replaces the check character with a different, wrong one. */
const corrupt = (id: string): string => {
  const last = id.charAt(17);
  const wrong = last === '0' ? '1' : '0';
  return id.slice(0, 17) + wrong;
};

describe('checkDigit', () => {
  it.each<[string, string]>([
    ['11010519491231002', 'X'],
    ['44052418800101001', '4'],
    ['42058119800101123', checkDigit('42058119800101123')],
  ])('checkDigit(%s) → %s', (first17, expected) => {
    expect(checkDigit(first17)).toBe(expected);
  });

  it.each([
    ['11010519491231002', 'X'], // remainder 2
    ['00000000000000000', '1'], // remainder 0
  ])('maps remainders per ISO 7064 MOD 11-2: %s → %s', (first17, expected) => {
    expect(checkDigit(first17)).toBe(expected);
  });

  it.each(['1101051949123100', '110105194912310021', '1101051949123100X', '', 'abcdefghijklmnopq'])(
    'rejects %j',
    (input) => {
      expect(() => checkDigit(input)).toThrow(RangeError);
    },
  );

  it('covers every check character over a range of sequences', () => {
    const seen = new Set<string>();
    for (let seq = 0; seq < 200; seq++) {
      seen.add(checkDigit(`42058119800101${String(seq).padStart(3, '0')}`));
    }
    expect([...seen].sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X']);
  });
});

describe('parseNationalId: valid numbers', () => {
  it.each<[string, string, number, string, 'male' | 'female']>([
    ['11010519491231002X', '11010519491231002X', 110105, '1949-12-31', 'female'],
    ['11010519491231002x', '11010519491231002X', 110105, '1949-12-31', 'female'],
    ['  11010519491231002X\n', '11010519491231002X', 110105, '1949-12-31', 'female'],
    [withCheck('42058119800101123'), withCheck('42058119800101123'), 420581, '1980-01-01', 'male'],
    [withCheck('42058120000229002'), withCheck('42058120000229002'), 420581, '2000-02-29', 'female'],
    [withCheck('42900419900315457'), withCheck('42900419900315457'), 429004, '1990-03-15', 'male'],
    [withCheck('42050019000101010'), withCheck('42050019000101010'), 420500, '1900-01-01', 'female'],
    [withCheck('42000020131231999'), withCheck('42000020131231999'), 420000, '2013-12-31', 'male'],
  ])('%j is valid', (input, value, addressCode, birthDate, sex) => {
    expect(parseNationalId(input)).toEqual({ ok: true, value, addressCode, birthDate, sex });
  });

  it('accepts a birth date equal to today', () => {
    const id = withCheck('42058120240315001');
    expect(parseNationalId(id, '2024-03-15')).toMatchObject({ ok: true, birthDate: '2024-03-15' });
  });
});

describe('parseNationalId: invalid numbers', () => {
  it.each<[string, string, string | undefined, NationalIdError]>([
    ['empty', '', undefined, 'length'],
    ['17 chars', '11010519491231002', undefined, 'length'],
    ['19 chars', '11010519491231002X1', undefined, 'length'],
    ['15-digit first-generation ID', '110105491231002', undefined, 'length'],
    ['letter in body', '1101051949123100AX', undefined, 'format'],
    ['Y as check char', '11010519491231002Y', undefined, 'format'],
    ['X not last', 'X10105194912310021', undefined, 'format'],
    ['inner space', '110105 9491231002X', undefined, 'format'],
    ['full-width digits', '１１０１０５１９４９１２３１００２X', undefined, 'format'],
    ['address 000000', withCheck('00000019800101123'), undefined, 'address'],
    ['province 10', withCheck('10010519800101123'), undefined, 'address'],
    ['county without city', withCheck('42001019800101123'), undefined, 'address'],
    ['Feb 30', withCheck('42058119800230123'), undefined, 'birth_date'],
    ['month 13', withCheck('42058119801301123'), undefined, 'birth_date'],
    ['day 00', withCheck('42058119800100123'), undefined, 'birth_date'],
    ['1900-02-29 (not a leap year)', withCheck('42058119000229123'), undefined, 'birth_date'],
    ['before 1900', withCheck('42058118991231123'), undefined, 'birth_date'],
    ['future birth date', withCheck('42058120300101123'), '2024-06-01', 'future_birth_date'],
    ['born the day after today', withCheck('42058120240316001'), '2024-03-15', 'future_birth_date'],
    ['altered check char', corrupt('11010519491231002X'), undefined, 'checksum'],
    ['altered check char (generated)', corrupt(withCheck('42058119800101123')), undefined, 'checksum'],
    ['altered body digit', '11010519491231003X', undefined, 'checksum'],
    ['address checked before checksum', corrupt(withCheck('00000019800101123')), undefined, 'address'],
    ['birth date checked before checksum', corrupt(withCheck('42058119800230123')), undefined, 'birth_date'],
  ])('%s → %s', (_label, input, today, error) => {
    expect(parseNationalId(input, today)).toEqual({ ok: false, error });
  });

  it('future years pass without today', () => {
    expect(parseNationalId(withCheck('42058120300101123')).ok).toBe(true);
  });

  it('rejects a malformed today', () => {
    expect(() => parseNationalId('11010519491231002X', '2024-02-30')).toThrow(RangeError);
    expect(() => parseNationalId('11010519491231002X', '20240101')).toThrow(RangeError);
  });
});

describe('masking', () => {
  it.each<[string, string]>([
    ['420581198001011234', '420581********1234'],
    ['11010519491231002X', '110105********002X'],
    ['110105491231002', '***********1002'],
    ['12345', '*2345'],
    ['1234', '****'],
    ['', '****'],
  ])('maskNationalId(%j) → %j', (input, expected) => {
    expect(maskNationalId(input)).toBe(expected);
  });

  it.each<[string, string]>([
    ['6217000012345678901', '****8901'],
    ['6222021234567890', '****7890'],
    ['12345', '****2345'],
    ['1234', '****'],
    ['', '****'],
  ])('maskBankAccount(%j) → %j', (input, expected) => {
    expect(maskBankAccount(input)).toBe(expected);
  });
});

describe('scrubSensitive', () => {
  it.each<[string, string, string]>([
    [
      'log line with ID, bank account, division and locality codes',
      'pay resident 11010519491231002X to 6217000012345678901 county 420581 village 420581001001',
      'pay resident 110105********002X to ****8901 county 420581 village 420581001001',
    ],
    ['lower-case x ID', 'id=11010519491231002x;', 'id=110105********002x;'],
    ['all-digit ID', 'id:420581198001011234.', 'id:420581********1234.'],
    ['ID in JSON', '{"idNumber":"420581198001011234"}', '{"idNumber":"420581********1234"}'],
    ['16-digit card', 'card 6222021234567890 ok', 'card ****7890 ok'],
    ['13-digit run', 'acct=1234567890123', 'acct=****0123'],
    ['12-digit locality code stays', 'village 420581001001', 'village 420581001001'],
    ['short numbers stay', 'persons 9868 × 300 yuan in 2013', 'persons 9868 × 300 yuan in 2013'],
    ['20-digit run stays', 'trace 12345678901234567890', 'trace 12345678901234567890'],
    ['X after an 18-digit run', 'x 123456789012345678X', 'x 123456********5678X'],
    ['17 digits + X + digit is a 17-digit run', 'v 11010519491231002X9', 'v ****1002X9'],
    ['two IDs', '11010519491231002X,420581198001011234', '110105********002X,420581********1234'],
    ['no digits', '后扶 resettlement', '后扶 resettlement'],
  ])('%s', (_label, input, expected) => {
    expect(scrubSensitive(input)).toBe(expected);
  });

  it('never leaves the middle of an ID in clear', () => {
    const out = scrubSensitive('id 11010519491231002X');
    expect(out).not.toContain('19491231');
  });
});
