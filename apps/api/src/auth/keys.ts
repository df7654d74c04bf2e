import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';

/** The only signing algorithm; verification pins it (never `none`, never HS* with a public key). */
export const SIGNING_ALG = 'ES256';

/**
 * A local JWKS file (isolated government networks: no remote key fetch). `active` names the key that
 * signs; every listed key verifies. Rotation: `keys add` publishes a new key, `keys activate` makes it
 * sign once every server has it, `keys retire` drops the old one after the longest token life.
 */
export interface KeyFile {
  active: string;
  keys: (JWK & { kid: string })[];
}

export interface KeyStore {
  readonly activeKid: string;
  /** The private key that signs new tokens. */
  signingKey: Awaited<ReturnType<typeof importJWK>>;
  /** Resolves a token's `kid` to one of the published public keys. */
  verifyKey: JWTVerifyGetKey;
  /** Public keys only, for /.well-known/jwks.json. */
  publicJwks: JSONWebKeySet;
}

export async function newKey(): Promise<JWK & { kid: string }> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: SIGNING_ALG, use: 'sig' };
}

function publicPart({ d: _d, ...rest }: JWK & { kid: string }): JWK {
  return rest;
}

export async function keyStoreFrom(file: KeyFile): Promise<KeyStore> {
  const active = file.keys.find((k) => k.kid === file.active);
  if (!active) throw new Error(`active key ${file.active} is not in the key file`);
  const publicJwks = { keys: file.keys.map(publicPart) };
  return {
    activeKid: active.kid,
    signingKey: await importJWK(active, SIGNING_ALG),
    verifyKey: createLocalJWKSet(publicJwks),
    publicJwks,
  };
}

export async function readKeyFile(path: string): Promise<KeyFile | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as KeyFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** Loads the key file, creating one with a fresh dev key on first run. */
export async function loadOrCreateKeyFile(path: string): Promise<KeyFile> {
  const existing = await readKeyFile(path);
  if (existing) return existing;
  const key = await newKey();
  const file = { active: key.kid, keys: [key] };
  await writeKeyFile(path, file);
  return file;
}

/** In-memory keys (tests, one-off tools). */
export async function ephemeralKeyStore(): Promise<KeyStore> {
  const key = await newKey();
  return keyStoreFrom({ active: key.kid, keys: [key] });
}
