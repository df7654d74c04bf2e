import { randomBytes } from 'node:crypto';
import {
  type Actor,
  appendAudit,
  type Database,
  getApiClient,
  insertApiClient,
  recordApiClientFailure,
  resetApiClientFailures,
  revokeApiClient,
  withDivision,
} from '@houfu/db';
import { isDivisionCode, type Permission, parseScopes } from '@houfu/domain';
import pLimit from 'p-limit';
import { hashSecret, newSecret, verifySecret } from '../../auth/secrets.js';
import { ApiError } from '../../lib/problem.js';

const MAX_FAILURES = 5;
const LOCK_MINUTES = 15;

/** Client ids carry their division (`hf_420000_…`) so the lookup runs inside that tenant. */
export const CLIENT_ID = /^hf_(\d{6})_[a-z0-9]{8,32}$/;

function divisionOfClientId(clientId: string): number | undefined {
  const m = CLIENT_ID.exec(clientId);
  const division = m ? Number(m[1]) : Number.NaN;
  return isDivisionCode(division) ? division : undefined;
}

/** A well-formed hash that no secret matches (random salt and key). */
const UNKNOWN_CLIENT_HASH = `scrypt$16384$8$1$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`;

const invalidClient = () => new ApiError('invalid_client', 'Client authentication failed.');

/**
 * scrypt costs ~30 ms of CPU and 16 MiB: at most four run at once (libuv's thread pool), and when too
 * many wait the endpoint sheds load with 503 instead of starving every other request.
 */
const hashing = pLimit(4);
const MAX_WAITING_HASHES = 64;

async function checkSecret(secret: string, hash: string): Promise<boolean> {
  if (hashing.pendingCount >= MAX_WAITING_HASHES) {
    throw new ApiError('service_unavailable', 'Too many token requests at once; retry shortly.', [], {
      'retry-after': '1',
    });
  }
  return hashing(() => verifySecret(secret, hash));
}

/**
 * Checks credentials and returns the scopes to grant. The secret is hashed outside any transaction;
 * the outcome (failure count, lock, reset) is written in its own short transaction.
 */
export async function authenticateClient(
  db: Database,
  clientId: string,
  secret: string,
  requested: string | undefined,
  requestId: string | null,
): Promise<{ division: number; scopes: Permission[] }> {
  const division = divisionOfClientId(clientId);
  if (division === undefined) throw invalidClient();
  const client = await withDivision(db, division, (tx) => getApiClient(tx, division, clientId));
  if (!client || client.revokedAt) {
    // Same work as a real check, so timing does not tell whether a client id exists.
    await checkSecret(secret, UNKNOWN_CLIENT_HASH);
    throw invalidClient();
  }
  if (client.locked) {
    throw new ApiError('invalid_client', 'Too many failed attempts; the client is locked for a while.', [], {
      'retry-after': String(LOCK_MINUTES * 60),
    });
  }
  const ok = await checkSecret(secret, client.secretHash);
  await withDivision(db, division, async (tx) => {
    if (ok) return resetApiClientFailures(tx, division, clientId);
    if (await recordApiClientFailure(tx, division, clientId, MAX_FAILURES, LOCK_MINUTES)) {
      await appendAudit(tx, {
        division,
        actor: { sub: `client:${clientId}`, kind: 'client', division },
        action: 'api_client.lock',
        entityType: 'api_client',
        entityId: clientId,
        changes: { locked_minutes: { old: null, new: LOCK_MINUTES } },
        requestId,
        outcome: 'failure',
        occurredAt: new Date(),
      });
    }
  });
  if (!ok) throw invalidClient();
  const allowed = client.scopes as Permission[];
  let scopes = allowed;
  if (requested !== undefined) {
    try {
      scopes = parseScopes(requested);
    } catch (error) {
      throw new ApiError('validation_failed', (error as Error).message, [
        { field: 'scope', message: 'Unknown scope', code: 'invalid_scope' },
      ]);
    }
    const extra = scopes.filter((s) => !allowed.includes(s));
    if (extra.length > 0) {
      throw new ApiError('validation_failed', `The client does not hold ${extra.join(', ')}.`, [
        { field: 'scope', message: 'Scope not granted to this client', code: 'invalid_scope' },
      ]);
    }
  }
  return { division, scopes };
}

/** Registers an integrator; the secret is returned once and stored only as a hash. */
export async function createApiClient(
  db: Database,
  actor: Actor,
  input: { division: number; name: string; scopes: Permission[] },
): Promise<{ clientId: string; secret: string }> {
  const clientId = `hf_${String(input.division).padStart(6, '0')}_${randomBytes(8).toString('hex')}`;
  const secret = newSecret();
  const secretHash = await hashSecret(secret);
  await withDivision(db, input.division, async (tx) => {
    await insertApiClient(tx, {
      divisionCode: input.division,
      clientId,
      name: input.name,
      secretHash,
      scopes: input.scopes,
    });
    await appendAudit(tx, {
      division: input.division,
      actor,
      action: 'api_client.create',
      entityType: 'api_client',
      entityId: clientId,
      changes: { name: { old: null, new: input.name }, scopes: { old: null, new: input.scopes } },
      requestId: null,
      occurredAt: new Date(),
    });
  });
  return { clientId, secret };
}

export async function revokeClient(db: Database, actor: Actor, clientId: string): Promise<boolean> {
  const division = divisionOfClientId(clientId);
  if (division === undefined) return false;
  return withDivision(db, division, async (tx) => {
    const row = await revokeApiClient(tx, division, clientId);
    if (!row) return false;
    await appendAudit(tx, {
      division,
      actor,
      action: 'api_client.revoke',
      entityType: 'api_client',
      entityId: clientId,
      changes: { revoked_at: { old: null, new: row.revokedAt?.toISOString() ?? null } },
      requestId: null,
      occurredAt: new Date(),
    });
    return true;
  });
}
