import { getConnInfo } from '@hono/node-server/conninfo';
import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { signClientToken } from '../../auth/tokens.js';
import { ApiError } from '../../lib/problem.js';
import type { AppEnv } from '../../lib/types.js';
import { MinuteWindows } from '../../middleware/rate-limit.js';
import type { issueToken } from './oauth.routes.js';
import { authenticateClient } from './oauth.service.js';

/** RFC 6749 §2.3.1: HTTP Basic with form-encoded id and secret. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const m = header ? /^Basic ([A-Za-z0-9+/=]+)$/.exec(header) : null;
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  try {
    return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
  } catch {
    throw new ApiError('invalid_client', 'The Basic credentials are not form-encoded.');
  }
}

/** Budgets checked before any database or hashing work. */
export const TOKEN_REQUESTS_PER_CLIENT_PER_MINUTE = 30;
export const TOKEN_REQUESTS_PER_ADDRESS_PER_MINUTE = 300;

function remoteAddress(c: Context<AppEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // not served by @hono/node-server (in-process tests)
  }
}

export function tokenHandler(): RouteHandler<typeof issueToken, AppEnv> {
  const perClient = new MinuteWindows(TOKEN_REQUESTS_PER_CLIENT_PER_MINUTE, 'token requests for this client');
  const perAddress = new MinuteWindows(
    TOKEN_REQUESTS_PER_ADDRESS_PER_MINUTE,
    'token requests from this address',
  );
  return async (c) => {
    const type = c.req.header('content-type') ?? '';
    const body = type.startsWith('application/x-www-form-urlencoded')
      ? c.req.valid('form')
      : type.startsWith('application/json')
        ? c.req.valid('json')
        : undefined;
    if (!body)
      throw new ApiError(
        'unsupported_media_type',
        'Send application/x-www-form-urlencoded or application/json.',
      );
    const basic = basicCredentials(c.req.header('authorization'));
    const id = basic?.id ?? body.client_id;
    const secret = basic?.secret ?? body.client_secret;
    if (!id || !secret) {
      throw new ApiError(
        'invalid_client',
        'Send client_id and client_secret, in the body or as HTTP Basic credentials.',
      );
    }
    const { deps } = c.var;
    const now = deps.now().getTime();
    perAddress.hit(remoteAddress(c), now);
    perClient.hit(id, now);
    const granted = await authenticateClient(deps.db, id, secret, body.scope, c.var.requestId);
    const ttl = deps.config.HOUFU_CLIENT_TOKEN_TTL;
    const accessToken = await signClientToken(deps.keys, deps.tokens, {
      clientId: id,
      division: granted.division,
      scopes: granted.scopes,
      ttlSeconds: ttl,
    });
    deps.logger.info(
      { requestId: c.var.requestId, clientId: id, scopes: granted.scopes },
      'client token issued',
    );
    c.header('cache-control', 'no-store');
    return c.json(
      {
        access_token: accessToken,
        token_type: 'Bearer' as const,
        expires_in: ttl,
        scope: granted.scopes.join(' '),
      },
      200,
    );
  };
}
