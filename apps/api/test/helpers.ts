import { expect } from 'vitest';

export * from '../src/testing.js';

/** Asserts the RFC 9457 shape and returns the body. */
export async function problem(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as {
    code: string;
    status: number;
    errors?: { field: string }[];
    requestId: string;
    title: string;
    detail: string;
    type: string;
  };
  expect(body.status).toBe(res.status);
  expect(body.requestId).toBeTruthy();
  return body;
}
