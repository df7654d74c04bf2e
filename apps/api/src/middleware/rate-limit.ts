import { createMiddleware } from 'hono/factory';
import { ApiError } from '../lib/problem.js';
import type { AppEnv } from '../lib/types.js';

/**
 * Per-caller rate limit (division + subject), a fixed one-minute window held in memory of this
 * process. Answers 429 with Retry-After. Behind several API processes, each counts its own share.
 */
export function rateLimit(perMinute: number) {
  const windows = new Map<string, { start: number; count: number }>();
  return createMiddleware<AppEnv>(async (c, next) => {
    const { principal, deps } = c.var;
    const now = deps.now().getTime();
    const key = `${principal.division}:${principal.sub}`;
    let w = windows.get(key);
    if (!w || now - w.start >= 60_000) {
      if (windows.size > 100_000) windows.clear();
      w = { start: now, count: 0 };
      windows.set(key, w);
    }
    w.count += 1;
    if (w.count > perMinute) {
      const retry = Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000));
      throw new ApiError('rate_limited', `More than ${perMinute} requests a minute; retry later.`, [], {
        'retry-after': String(retry),
      });
    }
    await next();
  });
}
