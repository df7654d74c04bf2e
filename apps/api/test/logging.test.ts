/**
 * Personal data never reaches the logs in clear: a national ID number and a bank account number sent
 * in the URL, the body, headers, the request id or a token subject are masked or absent, while the
 * request lines themselves are written with their requestId.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, makeTownship, personalNumbersIn, type TestApp } from './helpers.js';

const NATIONAL_ID = '11010519491231002X';
const BANK_ACCOUNT = '6217002710000123456';

let t: TestApp;
const chunks: Buffer[] = [];

beforeAll(async () => {
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
  // Its own database: the valid create below stores a locality name carrying both numbers, which the
  // authorization matrix's national roles would otherwise list in the audit events on PostgreSQL.
  t = await createTestApp({ logStream, embeddedDatabase: true });
});
afterAll(() => t.close());

const logText = async () => {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return Buffer.concat(chunks).toString('utf8');
};
const logLines = async () =>
  (await logText())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('PII never in logs', () => {
  it('requests carrying an ID number and a bank account number leave neither in clear', async () => {
    const token = await t.token(430102, ['county_operator']);
    const { township } = await makeTownship(t.db, 430102, 0);
    const statuses: number[] = [];
    const send = async (...args: Parameters<TestApp['call']>) => {
      const res = await t.call(...args);
      statuses.push(res.status);
      await res.arrayBuffer();
    };

    // In the query string (a bad filter and a valid one).
    await send('GET', `/v1/divisions?q=${NATIONAL_ID}`, { token });
    await send('GET', `/v1/divisions?parent=${BANK_ACCOUNT}`, { token });
    await send('GET', `/v1/localities?county=${NATIONAL_ID}&township=${BANK_ACCOUNT}`, { token });
    // In the path.
    await send('GET', `/v1/localities/${BANK_ACCOUNT}`, { token });
    await send('GET', `/v1/no-such-route/${NATIONAL_ID}`, { token });
    // In the body: an unknown field, a wrong type, malformed JSON.
    await send('POST', '/v1/localities', {
      token,
      body: { code: township.code + 1, name: '村', id_number: NATIONAL_ID, bank_account: BANK_ACCOUNT },
    });
    await send('POST', '/v1/localities', { token, body: { code: NATIONAL_ID, name: BANK_ACCOUNT } });
    await send('POST', '/v1/localities', { token, body: `{"name": "${NATIONAL_ID}", ${BANK_ACCOUNT}` });
    // A valid create whose name carries both.
    await send('POST', '/v1/localities', {
      token,
      body: { code: township.code + 2, name: `户主${NATIONAL_ID}卡${BANK_ACCOUNT}` },
    });
    // In headers: a bogus header, the request id, the authorization header.
    await send('GET', '/v1/me', {
      token,
      headers: { 'x-citizen-id': NATIONAL_ID, 'x-bank-account': BANK_ACCOUNT },
    });
    // Request ids carrying them are not taken over (they would reach logs and audit records).
    for (const id of [NATIONAL_ID, BANK_ACCOUNT]) {
      const res = await t.call('GET', '/v1/me', { token, headers: { 'x-request-id': id } });
      expect(res.headers.get('x-request-id')).not.toBe(id);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    await send('GET', '/v1/me', { headers: { authorization: `Bearer ${NATIONAL_ID}.${BANK_ACCOUNT}.x` } });
    // In a verified token's subject.
    await send('GET', '/v1/me', { token: await t.token(430102, ['county_operator'], `user:${NATIONAL_ID}`) });
    // On the unauthenticated token route.
    await send('POST', '/v1/oauth/token', {
      body: `grant_type=client_credentials&client_id=${NATIONAL_ID}&client_secret=${BANK_ACCOUNT}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

    expect(statuses).toContain(200);
    expect(statuses).toContain(201);
    expect(statuses.some((s) => s >= 400)).toBe(true);
    expect(statuses).not.toContain(500);

    const text = await logText();
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(NATIONAL_ID);
    expect(text.toLowerCase()).not.toContain(NATIONAL_ID.toLowerCase());
    expect(text).not.toContain(BANK_ACCOUNT);
    expect(text).not.toContain(NATIONAL_ID.slice(0, 17));
    // The token subject that carried one was logged masked (first 6 and last 4 of the ID).
    expect(text).toContain('user:110105********002X');

    const requests = (await logLines()).filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(statuses.length);
    for (const line of requests) {
      expect(typeof line.requestId).toBe('string');
      expect((line.requestId as string).length).toBeGreaterThan(0);
      expect(typeof line.status).toBe('number');
      expect(typeof line.method).toBe('string');
    }
  });

  it('each request line carries the requestId the response announced', async () => {
    const token = await t.token(420582, ['county_operator'], 'user:log-check');
    const res = await t.call('GET', '/v1/me', { token });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id');
    const line = (await logLines()).find((l) => l.msg === 'request' && l.requestId === id);
    expect(line).toMatchObject({ method: 'GET', status: 200, sub: 'user:log-check', division: 420582 });
    expect(line?.route).toBe('/v1/me');
  });
});

// Every test app of the suite scans its log lines and responses with this detector and fails its
// file on close when a full number appears that the request did not carry itself (src/testing.ts).
describe('the suite-wide personal-number detector', () => {
  it.each([
    [`{"id":"${NATIONAL_ID}"}`, [NATIONAL_ID]],
    [`卡号${BANK_ACCOUNT}。`, [BANK_ACCOUNT]],
    ['{"national_id_masked":"110105********002X","bank_account_masked":"****3456"}', []],
    // Check digit wrong: not an ID number.
    ['110105194912310021', []],
    // Digits inside a hex hash or a longer number are not numbers of their own.
    [`a${NATIONAL_ID}f`, []],
    [`1${BANK_ACCOUNT}9999`, []],
    ['{"total_fen":296040000,"code":420581100201}', []],
  ])('%s → %j', (text, found) => {
    expect(personalNumbersIn(text)).toEqual(found);
  });
});
