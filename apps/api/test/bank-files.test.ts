/**
 * Bank files (docs/bank-files.md): the exact bytes of the CSV and fixed-width exports, their control
 * totals and field checks, and the return-file parser (headers, encodings, results, problems).
 */
import { TextDecoder } from 'node:util';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  BankFileError,
  type BankFileFormat,
  type BankFileHeader,
  type BankFileLine,
  bankFile,
  bankFileMediaTypes,
  bankFileName,
  fixedRecordBytes,
  MAX_RETURN_PROBLEMS,
  parseBankReturn,
  ReturnFileError,
} from '../src/routes/disbursements/bank-files.js';

const HASH = '0123456789abcdef'.repeat(4);
const CRLF = '\r\n';

const header = (over: Partial<BankFileHeader> = {}): BankFileHeader => ({
  batchNo: '420581-2013-H1-01',
  countyCode: 420581,
  countyName: '宜都市',
  period: '2013-H1',
  lineCount: 2,
  totalFen: 60000,
  contentHash: HASH,
  createdOn: '2013-07-01',
  ...over,
});

const LINES: BankFileLine[] = [
  {
    reference: '420581-2013-H1-01-0000001',
    name: '张三',
    account: '6228480012345678901',
    bankName: '中国农业银行宜都支行',
    amountFen: 30000,
  },
  {
    reference: '420581-2013-H1-01-0000002',
    name: '李四',
    account: '6217000000000000002',
    bankName: null,
    amountFen: 30000,
  },
];

/** The lines in pages of up to 1,000, as the export reads them. */
async function* from<T>(items: Iterable<T>): AsyncGenerator<T[]> {
  let page: T[] = [];
  for (const item of items) {
    page.push(item);
    if (page.length === 1_000) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

const render = (format: BankFileFormat, h: BankFileHeader, lines: BankFileLine[]) =>
  collect(bankFile(format, h, from(lines)));

/** Reads a file's chunks until it throws; returns what was emitted and the error. */
async function untilError(chunks: AsyncIterable<Buffer>): Promise<{ emitted: Buffer; error: unknown }> {
  const parts: Buffer[] = [];
  try {
    for await (const c of chunks) parts.push(c);
  } catch (error) {
    return { emitted: Buffer.concat(parts), error };
  }
  throw new Error('expected the file to fail');
}

/** Splits bytes on CRLF (the last, empty piece dropped). */
function records(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(CRLF); i !== -1; i = bytes.indexOf(CRLF, start)) {
    out.push(bytes.subarray(start, i));
    start = i + 2;
  }
  expect(start).toBe(bytes.length); // the file ends in CRLF
  return out;
}

const gb = (hex: string) => Buffer.from(hex.replace(/\s/g, ''), 'hex');
const ascii = (s: string) => Buffer.from(s, 'latin1');
const pad = (b: Buffer, w: number) => Buffer.concat([b, Buffer.alloc(w - b.length, 0x20)]);

describe('bank file: CSV', () => {
  it('writes the exact bytes: BOM, CRLF, header and trailer totals', async () => {
    const bytes = await render('csv', header(), LINES);
    const expected =
      '\ufeff' +
      `批次号,420581-2013-H1-01,期间,2013-H1,笔数,2,金额合计(元),600.00,批次校验码,${HASH}${CRLF}` +
      `参考号,姓名,银行账号,开户银行,金额(元)${CRLF}` +
      `420581-2013-H1-01-0000001,张三,6228480012345678901,中国农业银行宜都支行,300.00${CRLF}` +
      `420581-2013-H1-01-0000002,李四,6217000000000000002,,300.00${CRLF}` +
      `合计,,,2,600.00${CRLF}`;
    expect(bytes.equals(Buffer.from(expected, 'utf8'))).toBe(true);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString('utf8').replaceAll(CRLF, '')).not.toMatch(/[\r\n]/);
  });

  it('writes amounts without thousands separators, the hash in lower case', async () => {
    const big = { ...LINES[0]!, amountFen: 123456789 };
    const text = (
      await render('csv', header({ lineCount: 1, totalFen: 123456789, contentHash: HASH.toUpperCase() }), [
        big,
      ])
    ).toString('utf8');
    expect(text).toContain(',1234567.89\r\n');
    expect(text).toContain(`金额合计(元),1234567.89,批次校验码,${HASH}\r\n`);
    expect(text.endsWith(`合计,,,1,1234567.89${CRLF}`)).toBe(true);
  });

  it('quotes and neutralises formula-like and special values', async () => {
    const lines: BankFileLine[] = [
      { ...LINES[0]!, name: '=HYPERLINK("http://x","y")', bankName: '+86 银行' },
      { ...LINES[1]!, name: '@SUM(A1)', bankName: '农行, "宜都"' },
    ];
    const text = (await render('csv', header(), lines)).toString('utf8');
    const rows = text.split(CRLF);
    expect(rows[2]).toBe(
      `420581-2013-H1-01-0000001,"'=HYPERLINK(""http://x"",""y"")",6228480012345678901,'+86 银行,300.00`,
    );
    expect(rows[3]).toBe(`420581-2013-H1-01-0000002,'@SUM(A1),6217000000000000002,"农行, ""宜都""",300.00`);
  });

  it('writes an empty batch as header and trailer', async () => {
    const text = (await render('csv', header({ lineCount: 0, totalFen: 0 }), [])).toString('utf8');
    expect(text.split(CRLF)).toHaveLength(4);
    expect(text.endsWith(`合计,,,0,0.00${CRLF}`)).toBe(true);
  });

  it('names the file and its media type', () => {
    expect(bankFileName('csv', header())).toBe('bank-420581-2013-H1-01.csv');
    expect(bankFileName('fixed', header())).toBe('bank-420581-2013-H1-01.txt');
    expect(bankFileName('csv', header({ batchNo: 'a/b c' }))).toBe('bank-a_b_c.csv');
    expect(bankFileMediaTypes).toEqual({
      csv: 'text/csv; charset=utf-8',
      fixed: 'text/plain; charset=gb18030',
    });
  });
});

describe('bank file: fixed width (GB18030)', () => {
  it('writes the exact bytes of each record', async () => {
    const bytes = await render('fixed', header(), LINES);
    const H = Buffer.concat([
      ascii('H'),
      ascii('420581-2013-H1-01'.padEnd(24)),
      ascii('2013-H1 '),
      ascii('420581'),
      ascii('0000000002'),
      ascii('000000000000060000'),
      ascii(HASH),
      ascii('20130701'),
    ]);
    const D1 = Buffer.concat([
      ascii('D'),
      ascii('420581-2013-H1-01-0000001'.padEnd(30)),
      ascii('6228480012345678901'.padEnd(32)),
      pad(gb('D5C5 C8FD'), 60), // 张三
      ascii('000000000030000'),
      // 中国农业银行宜都支行
      pad(gb('D6D0 B9FA C5A9 D2B5 D2F8 D0D0 D2CB B6BC D6A7 D0D0'), 60),
    ]);
    const D2 = Buffer.concat([
      ascii('D'),
      ascii('420581-2013-H1-01-0000002'.padEnd(30)),
      ascii('6217000000000000002'.padEnd(32)),
      pad(gb('C0EE CBC4'), 60), // 李四
      ascii('000000000030000'),
      ascii(' '.repeat(60)),
    ]);
    const T = Buffer.concat([ascii('T'), ascii('0000000002'), ascii('000000000000060000'), ascii(HASH)]);
    const crlf = ascii(CRLF);
    expect(bytes.equals(Buffer.concat([H, crlf, D1, crlf, D2, crlf, T, crlf]))).toBe(true);
    expect([H.length, D1.length, T.length]).toEqual([139, 198, 93]);
    expect(fixedRecordBytes).toEqual({ H: 139, D: 198, T: 93 });
    expect(new TextDecoder('gb18030', { fatal: true }).decode(bytes)).toContain('张三');
  });

  it('gives every D record the same byte length, whatever the names', async () => {
    const names = ['张三', '欧阳娜娜', 'Li Si', '王', '𠀀𠀁', '䶮', '阿卜杜热合曼·买买提', '张'.repeat(30)];
    const lines = names.map((name, i) => ({
      reference: `420581-2013-H1-01-${String(i + 1).padStart(7, '0')}`,
      name,
      account: '6'.repeat(1 + i),
      bankName: i % 2 ? null : '宜都农商行',
      amountFen: 100 * (i + 1),
    }));
    const total = lines.reduce((n, l) => n + l.amountFen, 0);
    const bytes = await render('fixed', header({ lineCount: lines.length, totalFen: total }), lines);
    const recs = records(bytes);
    expect(recs).toHaveLength(names.length + 2);
    expect(recs[0]!.length).toBe(139);
    expect(recs.at(-1)!.length).toBe(93);
    for (const r of recs.slice(1, -1)) {
      expect(r.length).toBe(198);
      expect(r[0]).toBe(0x44); // 'D'
    }
    // Four-byte GB18030 characters: 𠀀 is 95 32 82 36.
    expect(recs[5]!.subarray(63, 71)).toEqual(gb('95328236 95328237'));
    // The names read back (the name field is bytes 63..123).
    const dec = new TextDecoder('gb18030', { fatal: true });
    expect(recs.slice(1, -1).map((r) => dec.decode(r.subarray(63, 123)).trimEnd())).toEqual(names);
  });

  it('refuses a name or bank name wider than its field, never cutting it', async () => {
    const ok = { ...LINES[0]!, name: '张'.repeat(30), amountFen: 60000 };
    await expect(render('fixed', header({ lineCount: 1 }), [ok])).resolves.toBeInstanceOf(Buffer);
    const wide = { ...ok, name: '张'.repeat(31) };
    await expect(render('fixed', header({ lineCount: 1 }), [wide])).rejects.toThrow(
      /line 1 \(420581-2013-H1-01-0000001\): name is 62 bytes, wider than its 60/,
    );
    const wideBank = { ...ok, bankName: '中国农业银行股份有限公司湖北省宜昌市宜都市陆城街道清江大道支行' };
    await expect(render('fixed', header({ lineCount: 1 }), [wideBank])).rejects.toThrow(
      /bankName is \d+ bytes/,
    );
    // CSV has no widths.
    await expect(render('csv', header({ lineCount: 1 }), [wide])).resolves.toBeInstanceOf(Buffer);
  });

  it('refuses names with edge spaces, and amounts wider than 15 digits', async () => {
    const padded = { ...LINES[0]!, name: '张三 ', amountFen: 60000 };
    await expect(render('fixed', header({ lineCount: 1 }), [padded])).rejects.toThrow(/leading or trailing/);
    const huge = { ...LINES[0]!, amountFen: 1e15 };
    await expect(render('fixed', header({ lineCount: 1, totalFen: 1e15 }), [huge])).rejects.toThrow(
      /amountFen 1000000000000000 does not fit in 15 digits/,
    );
  });
});

describe('bank file: control totals and checks', () => {
  const many = (n: number): BankFileLine[] =>
    Array.from({ length: n }, (_, i) => ({
      reference: `420581-2013-H1-01-${String(i + 1).padStart(7, '0')}`,
      name: '张三',
      account: '6228480012345678901',
      bankName: '中国农业银行宜都支行',
      amountFen: 100,
    }));

  for (const format of ['csv', 'fixed'] as const) {
    it(`${format}: fewer lines than the header: throws before the trailer`, async () => {
      const lines = many(2000); // several chunks are emitted before the end
      const { emitted, error } = await untilError(
        bankFile(format, header({ lineCount: 2001, totalFen: 200100 }), from(lines)),
      );
      expect(error).toBeInstanceOf(BankFileError);
      expect((error as Error).message).toMatch(/2000 lines totalling 200000 fen, but the header says 2001/);
      expect(emitted.length).toBeGreaterThan(0);
      const text = format === 'csv' ? emitted.toString('utf8') : emitted.toString('latin1');
      expect(text.includes(format === 'csv' ? '\r\n合计,' : '\r\nT')).toBe(false);
    });

    it(`${format}: more lines, or a different sum, throws`, async () => {
      await expect(render(format, header({ lineCount: 1, totalFen: 30000 }), LINES)).rejects.toThrow(
        /more lines than the header's 1/,
      );
      await expect(render(format, header({ totalFen: 59999 }), LINES)).rejects.toThrow(/add up to more/);
      await expect(render(format, header({ totalFen: 60001 }), LINES)).rejects.toThrow(
        /2 lines totalling 60000 fen, but the header says 2 lines totalling 60001 fen/,
      );
    });

    it(`${format}: bad lines throw without revealing the account`, async () => {
      const bad: [Partial<BankFileLine>, RegExp][] = [
        [{ amountFen: 0 }, /amountFen must be an integer > 0/],
        [{ amountFen: 10.5 }, /amountFen must be an integer > 0/],
        [{ account: '6228 4800 1234' }, /account must be 1 to 32 digits/],
        [{ account: '1'.repeat(33) }, /account must be 1 to 32 digits/],
        [{ reference: 'x'.repeat(31) }, /reference must be/],
        [{ name: ' ' }, /name is empty/],
        [{ name: '张\n三' }, /name holds a control character/],
        [{ name: '张\ud800' }, /name holds a control character or an invalid character/],
        [{ bankName: 'a\tb' }, /bankName holds/],
      ];
      for (const [change, message] of bad) {
        const line = { ...LINES[0]!, amountFen: 60000, ...change };
        const { error } = await untilError(bankFile(format, header({ lineCount: 1 }), from([line])));
        expect(error).toBeInstanceOf(BankFileError);
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).not.toContain('6228480012345678901');
      }
    });

    it(`${format}: a bad header throws before any byte`, async () => {
      for (const h of [
        header({ contentHash: 'xyz' }),
        header({ batchNo: 'x'.repeat(25) }),
        header({ period: '2013-H1 X' }),
        header({ countyCode: 42058 }),
        header({ createdOn: '2013-02-30' }),
        header({ totalFen: -1 }),
      ]) {
        const { emitted, error } = await untilError(bankFile(format, h, from(LINES)));
        expect(error).toBeInstanceOf(BankFileError);
        expect(emitted.length).toBe(0);
      }
    });
  }

  it('closes the source of lines when the consumer stops early', async () => {
    let closed = false;
    async function* source() {
      try {
        for (const l of many(10_000)) yield [l];
      } finally {
        closed = true;
      }
    }
    const chunks = bankFile('csv', header({ lineCount: 10_000, totalFen: 1_000_000 }), source());
    const first = await chunks.next();
    expect(first.done).toBe(false);
    await chunks.return(undefined);
    expect(closed).toBe(true);
  });

  it('streams a large batch in large chunks', async () => {
    const n = 20_000;
    let chunks = 0;
    let size = 0;
    for await (const c of bankFile('fixed', header({ lineCount: n, totalFen: 100 * n }), from(many(n)))) {
      chunks += 1;
      size += c.length;
    }
    expect(size).toBe(139 + 2 + n * 200 + 93 + 2);
    expect(chunks).toBeGreaterThan(10);
    expect(chunks).toBeLessThan(100);
  });
});

// ---------------------------------------------------------------------------------------------------

const utf8 = (s: string, bom = false) => Buffer.from(`${bom ? '\ufeff' : ''}${s}`, 'utf8');

function returnError(file: Buffer): ReturnFileError {
  try {
    parseBankReturn(file);
  } catch (error) {
    expect(error).toBeInstanceOf(ReturnFileError);
    return error as ReturnFileError;
  }
  throw new Error('expected a ReturnFileError');
}

describe('bank return file', () => {
  it('reads Chinese headers in any order (UTF-8 with BOM), ignoring other columns', () => {
    const csv = [
      '序号,处理结果,姓名,金额（元）,参考号,失败原因',
      '1,成功,张三,300.00,420581-2013-H1-01-0000001,',
      '2,失败,李四,"1,200.5",420581-2013-H1-01-0000002,账户已销户',
      '',
    ].join('\r\n');
    expect(parseBankReturn(utf8(csv, true))).toEqual([
      { rowNo: 2, reference: '420581-2013-H1-01-0000001', amountFen: 30000, result: 'paid', reason: null },
      {
        rowNo: 3,
        reference: '420581-2013-H1-01-0000002',
        amountFen: 120050,
        result: 'failed',
        reason: '账户已销户',
      },
    ]);
  });

  it('reads English headers, case-insensitive and trimmed, without a reason column', () => {
    const csv = ' Reference ,AMOUNT,Result\n r1 , 0.01 , SUCCESS \nr2,5,Fail\nr3,6,paid\nr4,7,FAILED\n';
    expect(parseBankReturn(utf8(csv))).toEqual([
      { rowNo: 2, reference: 'r1', amountFen: 1, result: 'paid', reason: null },
      { rowNo: 3, reference: 'r2', amountFen: 500, result: 'failed', reason: null },
      { rowNo: 4, reference: 'r3', amountFen: 600, result: 'paid', reason: null },
      { rowNo: 5, reference: 'r4', amountFen: 700, result: 'failed', reason: null },
    ]);
  });

  it('accepts each header alias', () => {
    for (const [ref, amount, result, reason] of [
      ['参考号', '金额', '结果', '原因'],
      ['REFERENCE', '金额(元)', '处理结果', '失败原因'],
      ['reference', 'Amount', 'RESULT', 'Reason'],
    ]) {
      const rows = parseBankReturn(utf8(`${reason},${result},${amount},${ref}\r\n户名不符,失败,1.00,R1\r\n`));
      expect(rows).toEqual([
        { rowNo: 2, reference: 'R1', amountFen: 100, result: 'failed', reason: '户名不符' },
      ]);
    }
  });

  it('reads GB18030 / GBK files (Excel on Chinese Windows)', () => {
    const csv = '参考号,金额(元),结果,失败原因\r\n420581-2013-H1-01-0000001,300.00,失败,户名与账号不符\r\n';
    for (const enc of ['gb18030', 'gbk'] as const) {
      expect(parseBankReturn(iconv.encode(csv, enc))).toEqual([
        {
          rowNo: 2,
          reference: '420581-2013-H1-01-0000001',
          amountFen: 30000,
          result: 'failed',
          reason: '户名与账号不符',
        },
      ]);
    }
  });

  it('skips blank lines and a 合计 / TOTAL trailer; keeps duplicates', () => {
    const csv = [
      '',
      '参考号,金额,结果',
      'R1,1.00,成功',
      ',,',
      'R1,1.00,成功',
      '  ',
      'R2,2.00,失败',
      '合计,4.00,3',
      'total,,',
    ].join('\n');
    const rows = parseBankReturn(utf8(csv));
    expect(rows.map((r) => [r.rowNo, r.reference, r.result])).toEqual([
      [3, 'R1', 'paid'],
      [5, 'R1', 'paid'],
      [7, 'R2', 'failed'],
    ]);
  });

  it('numbers rows by CSV record (a quoted field may span lines)', () => {
    const csv = 'reference,amount,result,reason\nR1,1,failed,"two\nlines"\nR2,1,paid,\n';
    expect(parseBankReturn(utf8(csv))).toEqual([
      { rowNo: 2, reference: 'R1', amountFen: 100, result: 'failed', reason: 'two\nlines' },
      { rowNo: 3, reference: 'R2', amountFen: 100, result: 'paid', reason: null },
    ]);
  });

  it('refuses bad amounts, unknown results and empty cells, naming rows and fields', () => {
    const csv = [
      '参考号,金额(元),结果',
      'R1,abc,成功',
      'R2,1.234,成功',
      'R3,0,成功',
      'R4,-5.00,失败',
      'R5,1.00,处理中',
      ',1.00,',
      'R7,1.00,成功',
    ].join('\r\n');
    const e = returnError(utf8(csv));
    expect(e.code).toBe('rows');
    expect(e.message).toMatch(/^6 rows cannot be read \(7 problems\)$/);
    expect(e.problems.map((p) => [p.rowNo, p.field])).toEqual([
      [2, 'amount'],
      [3, 'amount'],
      [4, 'amount'],
      [5, 'amount'],
      [6, 'result'],
      [7, 'reference'],
      [7, 'result'],
    ]);
    expect(e.problems[0]!.message).toMatch(/"abc" is not an amount in yuan with at most 2 decimals/);
    expect(e.problems[2]!.message).toMatch(/is not more than 0/);
    expect(e.problems[4]!.message).toMatch(/"处理中" is not a result/);
    expect(e.problems[5]!.message).toMatch(/empty \(column 参考号\)/);
  });

  it('lists at most 100 problems', () => {
    const body = Array.from({ length: 150 }, (_, i) => `R${i},x,成功`).join('\n');
    const e = returnError(utf8(`reference,amount,result\n${body}\n`));
    expect(e.code).toBe('rows');
    expect(e.problems).toHaveLength(MAX_RETURN_PROBLEMS);
    expect(e.message).toBe('150 rows cannot be read (150 problems, the first 100 listed)');
  });

  it('refuses a header without the needed columns, or with one twice', () => {
    const missing = returnError(utf8('参考号,姓名,状态\nR1,张三,成功\n'));
    expect(missing.code).toBe('header');
    expect(missing.problems.map((p) => [p.rowNo, p.field])).toEqual([
      [1, 'amount'],
      [1, 'result'],
    ]);
    expect(missing.message).toMatch(/missing column \(金额 or 金额\(元\) or amount\)/);
    const twice = returnError(utf8('\nreference,金额,amount,result\nR1,1,1,paid\n'));
    expect(twice.code).toBe('header');
    expect(twice.problems).toEqual([
      { rowNo: 2, field: 'amount', message: 'two columns for amount: 金额 and amount' },
    ]);
  });

  it('refuses undecodable, unparseable, empty and row-less files', () => {
    expect(returnError(Buffer.from([0x72, 0x65, 0x66, 0xff, 0xff, 0x0a])).code).toBe('file_encoding');
    const utf16 = Buffer.from('\ufeffreference,amount,result\r\n', 'utf16le');
    expect(returnError(utf16).code).toBe('file_encoding');
    expect(returnError(utf8('reference,amount,result\nR1,"1.00,paid\n')).code).toBe('file_unreadable');
    expect(returnError(Buffer.alloc(0)).code).toBe('header');
    expect(returnError(utf8('\r\n\r\n')).code).toBe('header');
    expect(returnError(utf8('reference,amount,result\r\n合计,0,0\r\n')).code).toBe('rows');
  });

  it('reads our own CSV rows back (a result column added)', async () => {
    const exported = (await render('csv', header(), LINES)).toString('utf8').split(CRLF).slice(1, 4);
    const csv = [`${exported[0]},结果`, `${exported[1]},成功`, `${exported[2]},失败`].join(CRLF);
    expect(parseBankReturn(utf8(csv, true)).map((r) => [r.reference, r.amountFen, r.result])).toEqual([
      ['420581-2013-H1-01-0000001', 30000, 'paid'],
      ['420581-2013-H1-01-0000002', 30000, 'failed'],
    ]);
  });

  it('reads 100,000 rows quickly', () => {
    const n = 100_000;
    const body = Array.from(
      { length: n },
      (_, i) =>
        `420581-2013-H1-01-${String(i + 1).padStart(7, '0')},张三,6228480012345678901,${i % 10 ? '成功' : '失败'},300.00,${i % 10 ? '' : '账户冻结'}`,
    ).join('\r\n');
    const file = iconv.encode(
      `参考号,姓名,银行账号,结果,金额(元),失败原因\r\n${body}\r\n合计,,,,,\r\n`,
      'gb18030',
    );
    const started = performance.now();
    const rows = parseBankReturn(file);
    const ms = performance.now() - started;
    expect(rows).toHaveLength(n);
    expect(rows.filter((r) => r.result === 'failed')).toHaveLength(n / 10);
    expect(rows.at(-1)).toMatchObject({ rowNo: n + 1, amountFen: 30000 });
    expect(ms).toBeLessThan(2000);
  });

  it('refuses more than 1,000,000 rows', () => {
    const file = utf8(`reference,amount,result\n${'R,1,paid\n'.repeat(1_000_001)}`);
    const e = returnError(file);
    expect(e.code).toBe('rows');
    expect(e.message).toMatch(/more than 1,000,000 rows/);
  }, 30_000);
});
