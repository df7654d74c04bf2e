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

/** A response body, typed by the caller. */
export const json = async <T>(res: Response) => (await res.json()) as T;

/** The fields a problem's `errors` name. */
export const fields = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((e) => e.field);
