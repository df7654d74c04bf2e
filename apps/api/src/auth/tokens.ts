import {
  divisionLevel,
  isDivisionCode,
  type Permission,
  permissionSchema,
  permissionsForRoles,
  type Role,
  roleAllowedAt,
  roleSchema,
} from '@houfu/domain';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { AppConfig } from '../lib/config.js';
import { type KeyStore, SIGNING_ALG } from './keys.js';

/** RFC 9068 access-token type. */
const TOKEN_TYPE = 'at+jwt';
const CLOCK_TOLERANCE_SECONDS = 30;

export interface TokenSettings {
  issuer: string;
  audience: string;
  /** Seconds; tokens issued longer ago are refused. */
  maxTokenAge: number;
}

export const tokenSettingsFrom = (config: AppConfig): TokenSettings => ({
  issuer: config.HOUFU_ISSUER,
  audience: config.HOUFU_AUDIENCE,
  maxTokenAge: config.HOUFU_MAX_TOKEN_AGE,
});

/** Who is calling, from verified claims only. */
export interface Principal {
  sub: string;
  kind: 'user' | 'client';
  division: number;
  roles: Role[];
  /** Integrator scopes (client tokens) or the union of role permissions (user tokens). */
  permissions: ReadonlySet<Permission>;
  name?: string | undefined;
}

const divisionClaim = z.number().int().refine(isDivisionCode, 'not a division code');

const userClaims = z.object({
  sub: z.string().min(1).max(200),
  division: divisionClaim,
  roles: z.array(roleSchema).min(1).max(10),
  name: z.string().max(100).optional(),
});

const clientClaims = z.object({
  sub: z.string().min(1).max(200),
  client_id: z.string().min(1).max(200),
  division: divisionClaim,
  scope: z.string().max(1000),
});

export class InvalidTokenError extends Error {}

export async function verifyAccessToken(
  token: string,
  keys: KeyStore,
  settings: TokenSettings,
): Promise<Principal> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keys.verifyKey, {
      algorithms: [SIGNING_ALG],
      issuer: settings.issuer,
      audience: settings.audience,
      typ: TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'sub'],
      maxTokenAge: settings.maxTokenAge,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw new InvalidTokenError(error.code);
    throw error;
  }
  if ('client_id' in payload) {
    const c = clientClaims.safeParse(payload);
    if (!c.success) throw new InvalidTokenError('invalid client claims');
    const scopes = c.data.scope.split(' ').filter(Boolean);
    const parsed = z.array(permissionSchema).safeParse(scopes);
    if (!parsed.success) throw new InvalidTokenError('unknown scope');
    return {
      sub: c.data.sub,
      kind: 'client',
      division: c.data.division,
      roles: [],
      permissions: new Set(parsed.data),
    };
  }
  const u = userClaims.safeParse(payload);
  if (!u.success) throw new InvalidTokenError('invalid user claims');
  const misplaced = u.data.roles.find((r) => !roleAllowedAt(r, u.data.division));
  if (misplaced)
    throw new InvalidTokenError(`role ${misplaced} is not held at a ${divisionLevel(u.data.division)}`);
  return {
    sub: u.data.sub,
    kind: 'user',
    division: u.data.division,
    roles: u.data.roles,
    permissions: permissionsForRoles(u.data.roles),
    name: u.data.name,
  };
}

export interface UserTokenInput {
  sub: string;
  division: number;
  roles: Role[];
  name?: string | undefined;
  ttlSeconds: number;
}

export async function signUserToken(
  keys: KeyStore,
  settings: TokenSettings,
  input: UserTokenInput,
): Promise<string> {
  const bad = input.roles.find((r) => !roleAllowedAt(r, input.division));
  if (bad) throw new RangeError(`role ${bad} is not held at division ${input.division}`);
  return new SignJWT({
    division: input.division,
    roles: input.roles,
    ...(input.name ? { name: input.name } : {}),
  })
    .setProtectedHeader({ alg: SIGNING_ALG, kid: keys.activeKid, typ: TOKEN_TYPE })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(input.sub)
    .setIssuedAt()
    .setExpirationTime(`${input.ttlSeconds}s`)
    .sign(keys.signingKey);
}

export async function signClientToken(
  keys: KeyStore,
  settings: TokenSettings,
  input: { clientId: string; division: number; scopes: Permission[]; ttlSeconds: number },
): Promise<string> {
  return new SignJWT({ client_id: input.clientId, division: input.division, scope: input.scopes.join(' ') })
    .setProtectedHeader({ alg: SIGNING_ALG, kid: keys.activeKid, typ: TOKEN_TYPE })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(`client:${input.clientId}`)
    .setIssuedAt()
    .setExpirationTime(`${input.ttlSeconds}s`)
    .sign(keys.signingKey);
}
