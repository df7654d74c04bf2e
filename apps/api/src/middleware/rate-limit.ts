import { createMiddleware } from 'hono/factory';
import { ApiError } from '../lib/problem.js';
import type { AppEnv } from '../lib/types.js';

/**
 * Fixed one-minute windows held in this process's memory. Behind several API processes each counts
 * its own share. `hit` throws 429 `rate_limited` with Retry-After once a key exceeds its budget.
 */
export class MinuteWindows {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly what: string,
  ) {}

  hit(key: string, now: number): void {
    let w = this.#windows.get(key);
    if (!w || now - w.start >= 60_000) {
      if (this.#windows.size > 100_000) this.#windows.clear();
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    w.count += 1;
    if (w.count > this.perMinute) {
      const retry = Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000));
      throw new ApiError(
        'rate_limited',
        `More than ${this.perMinute} ${this.what} a minute; retry later.`,
        [],
        {
          'retry-after': String(retry),
        },
      );
    }
  }
}

/** Per-caller rate limit (division + subject) on authenticated routes. */
export function rateLimit(perMinute: number) {
  const windows = new MinuteWindows(perMinute, 'requests');
  return createMiddleware<AppEnv>(async (c, next) => {
    const { principal, deps } = c.var;
    windows.hit(`${principal.division}:${principal.sub}`, deps.now().getTime());
    await next();
  });
}
