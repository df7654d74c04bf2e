import { describe, expect, it } from 'vitest';
import {
  checkDigit,
  describeHeaderProblem,
  type ImportCell,
  type ImportErrorCode,
  importColumns,
  importErrorCodes,
  importIssueLabels,
  importWarningCodes,
  isBlankImportRow,
  parseImportDate,
  resolveImportHeader,
  validateImportRow,
} from '../src/index.js';

const withCheck = (first17: string) => first17 + checkDigit(first17);
/** 1970-01-01, sequence 001 (odd: male). */
const ID_MALE = withCheck('42058119700101001');
/** 1985-06-15, sequence 002 (even: female). */
const ID_FEMALE = withCheck('42058119850615002');
const badCheck = (id: string) => id.slice(0, 17) + (id.endsWith('0') ? '1' : '0');

const headers = importColumns.map((c) => c.header);
const header = resolveImportHeader(headers);
if (!header.ok) throw new Error('template header refused');
const layout = header.layout;
const options = { county: 420581, today: '2026-06-01' };

type Row = Partial<Record<(typeof importColumns)[number]['key'], ImportCell>>;
const base: Row = {
  household_no: 'H001',
  relationship: '户主',
  name: '张三',
  national_id: ID_MALE,
  sex: '男',
  birth_date: '1970-01-01',
  reservoir: '三峡水库',
  relocation_date: '2003-05-01',
  relocatee_kind: '原迁移民',
  village_code: '420581100201',
  bank_name: '农村信用社',
  bank_account: '6228480012345678901',
};
const cellsOf = (row: Row): ImportCell[] => importColumns.map((c) => row[c.key]);
const errorsOf = (patch: Row) => validateImportRow(cellsOf({ ...base, ...patch }), layout, options).errors;

describe('header', () => {
  it('accepts the template headers in any order, with a BOM, blanks and surrounding spaces', () => {
    const shuffled = [...headers].reverse().map((h) => ` ${h} `);
    const result = resolveImportHeader(['\uFEFF', ...shuffled, '', null]);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.layout.household_no).toBe(headers.length);
  });

  it('accepts the file without the optional columns', () => {
    const required = importColumns.filter((c) => c.required).map((c) => c.header);
    const result = resolveImportHeader(required);
    expect(result.ok && result.layout.sex).toBe(-1);
  });

  it('names missing and repeated headers, counts unknown ones and quotes one short excerpt', () => {
    const result = resolveImportHeader(['户编号', '户编号', '姓名', '身份证', '与户主关系', '备注']);
    expect(result).toEqual({
      ok: false,
      missing: ['身份证号', '水库名称', '搬迁日期', '移民类别', '安置村代码'],
      unknown: ['身份证', '备注'],
      duplicate: ['户编号'],
      recognised: 3,
    });
    if (!result.ok) {
      expect(describeHeaderProblem(result)).toBe(
        '表头不符合导入模板（缺少必填列: 身份证号、水库名称、搬迁日期、移民类别、安置村代码；无法识别的列 2 个，如「身份证」；重复的列: 户编号）。',
      );
    }
  });

  it('never echoes a first row of data: no cell, no ID, no account in the message', () => {
    const row = cellsOf(base);
    const result = resolveImportHeader(row);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.recognised).toBe(0);
    const message = describeHeaderProblem(result);
    expect(message).toBe(
      `表头不符合导入模板（第一行不是表头（未找到任何模板列名）；缺少必填列: ${importColumns
        .filter((c) => c.required)
        .map((c) => c.header)
        .join('、')}；无法识别的列 ${row.length} 个）。`,
    );
    for (const cell of [
      base.national_id,
      base.bank_account,
      base.name,
      base.household_no,
      '8901',
      ID_MALE.slice(-4),
    ]) {
      expect(message).not.toContain(String(cell));
    }
  });

  it('quotes an unknown header masked and cut short', () => {
    const id = `${ID_MALE}备注很长很长很长很长`;
    const result = resolveImportHeader(['户编号', id, '6228480012345678901']);
    if (result.ok) throw new Error('accepted');
    const message = describeHeaderProblem(result);
    // Masked first (the first 6 and the last 4 digits shown), then cut to 12 characters.
    expect(message).toContain(`无法识别的列 2 个，如「${ID_MALE.slice(0, 6)}******…」`);
    expect(message).not.toContain(ID_MALE);
    expect(message).not.toContain(ID_MALE.slice(6, 14));
    expect(message).not.toContain('6228480012345678901');
    expect(message).not.toContain('备注');
  });
});

describe('a valid row', () => {
  it('is normalised', () => {
    const result = validateImportRow(cellsOf(base), layout, options);
    expect(result).toEqual({
      errors: [],
      values: {
        householdNo: 'H001',
        relationship: 'head',
        name: '张三',
        nationalId: ID_MALE,
        nationalIdInput: ID_MALE,
        sex: 'male',
        birthDate: '1970-01-01',
        reservoir: '三峡水库',
        relocationDate: '2003-05-01',
        relocateeKind: 'original',
        villageCode: 420581100201,
        bankName: '农村信用社',
        bankAccount: '6228480012345678901',
      },
    });
  });

  it.each<[string, Row]>([
    ['optional columns empty', { sex: '', birth_date: null, bank_name: '', bank_account: undefined }],
    ['lower-case x check digit', { national_id: ID_MALE.toLowerCase(), sex: '男' }],
    ['female with her own ID', { national_id: ID_FEMALE, sex: '女', birth_date: '1985/6/15' }],
    ['relationship alias 本人', { relationship: '本人' }],
    ['relationship 儿媳/女婿 label', { relationship: '儿媳/女婿' }],
    ['relocatee kind 其他', { relocatee_kind: '其他' }],
    ['numeric village cell (XLSX)', { village_code: 420581100201 }],
    ['Excel date cell', { relocation_date: new Date(Date.UTC(2003, 4, 1)) }],
    ['relocation on the import day', { relocation_date: '2026-06-01' }],
    [
      'relocation on 1949-10-01',
      {
        relocation_date: '1949-10-01',
        national_id: withCheck('42058119300101001'),
        birth_date: '1930-01-01',
      },
    ],
    ['account with spaces', { bank_account: '6228 4800 1234 5678 901' }],
    ['numeric household number', { household_no: 17 }],
  ])('%s', (_label, patch) => {
    expect(errorsOf(patch)).toEqual([]);
  });
});

describe('rule table: one broken cell → one error code', () => {
  it.each<[string, Row, ImportErrorCode[]]>([
    ['household missing', { household_no: '  ' }, ['household_no_missing']],
    ['household too long', { household_no: 'H'.repeat(41) }, ['household_no_too_long']],
    ['household with a tab', { household_no: 'H\t1' }, ['household_no_invalid']],
    ['relationship missing', { relationship: '' }, ['relationship_missing']],
    ['relationship unknown', { relationship: '邻居' }, ['relationship_invalid']],
    ['name missing', { name: '' }, ['name_missing']],
    ['name too long', { name: '张'.repeat(51) }, ['name_too_long']],
    ['name with a control character', { name: '张\u0007三' }, ['name_invalid']],
    ['ID missing', { national_id: '' }, ['id_missing']],
    ['ID as a rounded number cell', { national_id: 420581197001010000 }, ['id_not_text']],
    ['ID 17 characters', { national_id: ID_MALE.slice(0, 17) }, ['id_length']],
    ['ID 15-digit old form', { national_id: '420581700101001' }, ['id_length']],
    ['ID with a letter', { national_id: `${ID_MALE.slice(0, 10)}A${ID_MALE.slice(11)}` }, ['id_format']],
    ['ID address 000000', { national_id: withCheck('00000019700101001') }, ['id_address']],
    ['ID birth date 19700230', { national_id: withCheck('42058119700230001') }, ['id_birth_date']],
    [
      'ID birth date in the future',
      { national_id: withCheck('42058120300101001'), relocation_date: '2003-05-01' },
      ['id_future_birth_date'],
    ],
    ['ID check digit wrong', { national_id: badCheck(ID_MALE) }, ['id_checksum']],
    ['sex unknown', { sex: 'M' }, ['sex_invalid']],
    ['sex contradicts the ID', { sex: '女' }, ['sex_mismatch']],
    ['birth date not a date', { birth_date: '1970-13-01' }, ['birth_date_invalid']],
    ['birth date contradicts the ID', { birth_date: '1970-01-02' }, ['birth_date_mismatch']],
    ['reservoir missing', { reservoir: '' }, ['reservoir_missing']],
    ['reservoir too long', { reservoir: '水'.repeat(101) }, ['reservoir_too_long']],
    ['relocation date missing', { relocation_date: '' }, ['relocation_date_missing']],
    ['relocation date 2003-02-30', { relocation_date: '2003-02-30' }, ['relocation_date_invalid']],
    ['relocation date as free text', { relocation_date: '去年' }, ['relocation_date_invalid']],
    ['relocation date before 1949-10-01', { relocation_date: '1949-09-30' }, ['relocation_date_too_early']],
    ['relocation date tomorrow', { relocation_date: '2026-06-02' }, ['relocation_date_future']],
    ['relocation before birth', { relocation_date: '1969-12-31' }, ['relocation_before_birth']],
    ['relocatee kind missing', { relocatee_kind: '' }, ['relocatee_kind_missing']],
    ['relocatee kind unknown', { relocatee_kind: '新迁' }, ['relocatee_kind_invalid']],
    ['village missing', { village_code: '' }, ['village_missing']],
    ['village code 11 digits', { village_code: '42058110020' }, ['village_invalid']],
    ['village code of a township', { village_code: '420581100000' }, ['village_invalid']],
    ['village of another county', { village_code: '420582100201' }, ['village_other_county']],
    ['bank account with letters', { bank_account: '6228A480012' }, ['bank_account_invalid']],
    ['bank account 7 digits', { bank_account: '1234567' }, ['bank_account_invalid']],
    ['bank account 31 digits', { bank_account: '1'.repeat(31) }, ['bank_account_invalid']],
    ['bank account without bank', { bank_name: '' }, ['bank_incomplete']],
    ['bank without account', { bank_account: '' }, ['bank_incomplete']],
    ['bank name too long', { bank_name: '银'.repeat(101) }, ['bank_name_too_long']],
  ])('%s → %j', (_label, patch, expected) => {
    expect(errorsOf(patch)).toEqual(expected);
  });

  it('collects every error of a row in column order and keeps the name for the report', () => {
    const result = validateImportRow(
      cellsOf({ ...base, relationship: '??', name: '李'.repeat(60), national_id: '123', village_code: 'x' }),
      layout,
      options,
    );
    expect(result.errors).toEqual(['relationship_invalid', 'name_too_long', 'id_length', 'village_invalid']);
    expect(result.values.name).toBe('李'.repeat(50));
    expect(result.values.nationalId).toBeNull();
    expect(result.values.nationalIdInput).toBe('123');
  });

  it('sex and birth date are taken from the ID even when the cells are empty', () => {
    const result = validateImportRow(
      cellsOf({ ...base, national_id: ID_FEMALE, sex: '', birth_date: '' }),
      layout,
      {
        ...options,
      },
    );
    expect(result.values).toMatchObject({ sex: 'female', birthDate: '1985-06-15' });
  });
});

describe('dates', () => {
  it.each<[ImportCell, string | null]>([
    ['2003-05-01', '2003-05-01'],
    ['2003/5/1', '2003-05-01'],
    ['2003.05.01', '2003-05-01'],
    ['2003年5月1日', '2003-05-01'],
    ['20030501', '2003-05-01'],
    ['2003-05-01 00:00:00', '2003-05-01'],
    [20030501, '2003-05-01'],
    [37742, '2003-05-01'],
    [new Date(Date.UTC(2003, 4, 1)), '2003-05-01'],
    ['2003-5', null],
    ['01/05/2003', null],
    ['2003-02-29', null],
    ['2004-02-29', '2004-02-29'],
    [37742.5, null],
    [true, null],
    [null, null],
  ])('%j → %j', (cell, expected) => {
    expect(parseImportDate(cell)).toBe(expected);
  });
});

describe('vocabulary', () => {
  it('every error and warning code has a Chinese label', () => {
    for (const code of [...importErrorCodes, ...importWarningCodes])
      expect(importIssueLabels[code]).toBeTruthy();
  });
  it('blank rows are recognised', () => {
    expect(isBlankImportRow(['', ' ', null, undefined])).toBe(true);
    expect(isBlankImportRow(['', 'x'])).toBe(false);
  });
});
