import { createMiddleware } from 'hono/factory';
import { ApiError } from '../lib/problem.js';
import type { AppEnv } from '../lib/types.js';

/**
 * A caller's budget as the `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds to
 * the end of the window) fields of draft-ietf-httpapi-ratelimit-headers.
 */
export type RateLimitHeaders = Record<'RateLimit-Limit' | 'RateLimit-Remaining' | 'RateLimit-Reset', string>;

/**
 * Fixed one-minute windows held in this process's memory. Behind several API processes each counts
 * its own share. `hit` counts a request and returns the key's budget as headers, or throws 429
 * `rate_limited` with those headers and Retry-After once the key exceeds its budget.
 */
export class MinuteWindows {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly what: string,
  ) {}

  hit(key: string, now: number): RateLimitHeaders {
    let w = this.#windows.get(key);
    if (!w || now - w.start >= 60_000) {
      if (this.#windows.size > 100_000) this.#windows.clear();
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    w.count += 1;
    const reset = String(Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000)));
    const headers: RateLimitHeaders = {
      'RateLimit-Limit': String(this.perMinute),
      'RateLimit-Remaining': String(Math.max(0, this.perMinute - w.count)),
      'RateLimit-Reset': reset,
    };
    if (w.count > this.perMinute) {
      throw new ApiError(
        'rate_limited',
        `More than ${this.perMinute} ${this.what} a minute; retry later.`,
        [],
        { ...headers, 'retry-after': reset },
      );
    }
    return headers;
  }
}

/** Per-caller rate limit (division + subject) on authenticated routes; see `rateLimitHeaders`. */
export function rateLimit(perMinute: number) {
  const windows = new MinuteWindows(perMinute, 'requests');
  return createMiddleware<AppEnv>(async (c, next) => {
    const { principal, deps } = c.var;
    c.set('rateLimit', windows.hit(`${principal.division}:${principal.sub}`, deps.now().getTime()));
    await next();
  });
}

/**
 * Puts the caller's budget counted by `rateLimit` on the response, whatever made it: the handler, a
 * replay, or an error thrown anywhere after the count (installed outside `rateLimit` so that errors
 * from the middleware after it are already rendered). A request refused before the caller is known
 * (401) has no budget and no headers; a 429 carries them on its error.
 */
export const rateLimitHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const budget = c.var.rateLimit;
  if (budget) for (const [name, value] of Object.entries(budget)) c.res.headers.set(name, value);
});
