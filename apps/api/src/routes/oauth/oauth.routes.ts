import { createRoute, z } from '@hono/zod-openapi';
import { json, problem } from '../../lib/route.js';
import { CLIENT_ID } from './oauth.service.js';

// The patterns describe valid credentials and scopes. The handler checks them (401 `invalid_client`,
// or 400 naming `scope` with `invalid_scope`), so the schema does not validate them itself.
export const TokenRequestSchema = z
  .strictObject({
    grant_type: z.literal('client_credentials').openapi({ example: 'client_credentials' }),
    client_id: z.string().max(200).optional().openapi({
      description: 'Or send HTTP Basic credentials.',
      pattern: CLIENT_ID.source,
      example: 'hf_420000_3k9x2m7q',
    }),
    client_secret: z.string().max(200).optional().openapi({
      description: 'Issued as base64url.',
      pattern: '^[\\w-]+$',
      example: 'Qm9vZ3l5X2V4YW1wbGVfc2VjcmV0X25vdF9hX3JlYWw',
    }),
    scope: z.string().max(1000).optional().openapi({
      description: 'Space-separated subset of the client’s scopes; all of them when absent.',
      pattern: '^[a-z_:\\s]*$',
      example: 'divisions:read audit:read',
    }),
  })
  .openapi('TokenRequest');

export const TokenResponseSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ example: 900 }),
    scope: z.string().openapi({ example: 'divisions:read audit:read' }),
  })
  .openapi('TokenResponse');

export const issueToken = createRoute({
  method: 'post',
  path: '/v1/oauth/token',
  operationId: 'issueToken',
  tags: ['auth'],
  summary: 'Exchange client credentials for an access token',
  description:
    'OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for integrators. Secrets are checked in constant time against a scrypt hash; after 5 failures in a row the client is locked for 15 minutes. Tokens are short-lived (HOUFU_CLIENT_TOKEN_TTL seconds) and carry only the granted scopes.',
  request: {
    body: {
      // Not `required`: with it, every content type's validator runs on every request. The handler
      // answers 415 when neither a form nor a JSON body came.
      required: false,
      content: {
        'application/x-www-form-urlencoded': { schema: TokenRequestSchema },
        'application/json': { schema: TokenRequestSchema },
      },
    },
  },
  responses: {
    200: {
      ...json(TokenResponseSchema, 'The access token.'),
      headers: z.object({ 'cache-control': z.string() }),
    },
    400: problem('Malformed request or a scope the client does not hold.'),
    401: problem('Unknown, revoked or locked client, or a wrong secret.'),
    415: problem('Send a form or JSON body.'),
    429: problem('Too many token requests for this client or from this address; see Retry-After.'),
    500: problem('Unexpected error.'),
    503: problem('Too many token requests at once, or the database is unavailable; retry shortly.'),
  },
});
