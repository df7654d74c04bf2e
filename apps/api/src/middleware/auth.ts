import { type Database, listDivisionCodes, withDivision } from '@houfu/db';
import { NATION, type Permission } from '@houfu/domain';
import { createMiddleware } from 'hono/factory';
import { InvalidTokenError, VerifiedTokenCache, verifyAccessToken } from '../auth/tokens.js';
import { ApiError } from '../lib/problem.js';
import type { AppEnv } from '../lib/types.js';

const challenge = { 'www-authenticate': 'Bearer realm="houfu", error="invalid_token"' };

/**
 * Verifies the bearer token; the principal comes only from verified claims (or from this process's
 * cache of tokens it verified, until they expire).
 */
export function authenticate(cache = new VerifiedTokenCache()) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const m = header ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header) : null;
    if (!m?.[1]) {
      throw new ApiError('unauthorized', 'Send `Authorization: Bearer <token>`.', [], {
        'www-authenticate': 'Bearer realm="houfu"',
      });
    }
    const { keys, tokens, now } = c.var.deps;
    const token = m[1];
    const at = now();
    let principal = cache.get(token, Math.floor(at.getTime() / 1000));
    if (!principal) {
      try {
        const verified = await verifyAccessToken(token, keys, tokens, at);
        cache.set(token, verified);
        principal = verified.principal;
      } catch (error) {
        if (error instanceof InvalidTokenError) {
          throw new ApiError('unauthorized', 'The token is invalid or expired.', [], challenge);
        }
        throw error;
      }
    }
    c.set('principal', principal);
    await next();
  });
}

/**
 * Refuses tokens whose division is well-formed but not in the dictionary. The codes are read once per
 * process (reference data, refreshed only by `houfu migrate`) and read again after a failed load.
 */
export function knownDivisionsOnly(db: Database) {
  let codes: Promise<ReadonlySet<number>> | undefined;
  const load = () =>
    withDivision(db, NATION, async (tx) => new Set(await listDivisionCodes(tx))).catch((error: unknown) => {
      codes = undefined;
      throw error;
    });
  return createMiddleware<AppEnv>(async (c, next) => {
    codes ??= load();
    if (!(await codes).has(c.var.principal.division)) {
      throw new ApiError(
        'unauthorized',
        'The token names a division that is not in the dictionary.',
        [],
        challenge,
      );
    }
    await next();
  });
}

/** Function-level authorisation: the permission map of @houfu/domain, per route. */
export function requirePermission(permission: Permission) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!c.var.principal.permissions.has(permission)) {
      throw new ApiError('forbidden', `This operation needs the permission ${permission}.`);
    }
    await next();
  });
}
