import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Protection of personal data at rest: national ID numbers and bank accounts are stored sealed
 * (AES-256-GCM, readable only with the data key) next to a keyed lookup hash (HMAC-SHA256, for
 * equality: duplicates, conflicts, search) and a masked form for display. A database dump shows
 * neither in clear, and the hash cannot be brute-forced over the small ID space without the key.
 * Both keys are derived from one 32-byte data key with HKDF.
 */
export interface Sealer {
  /** Keyed hash of a normalised value (32 bytes). */
  lookupHash(value: string): Buffer;
  seal(value: string): Buffer;
  open(sealed: Buffer | Uint8Array): string;
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function createSealer(dataKey: Buffer): Sealer {
  if (dataKey.length !== 32) throw new RangeError('the data key must be 32 bytes');
  const derive = (info: string) =>
    Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `houfu ${info} v1`, 32));
  const hashKey = derive('lookup');
  const sealKey = derive('seal');
  return {
    lookupHash: (value) => createHmac('sha256', hashKey).update(value, 'utf8').digest(),
    seal(value) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), body]);
    },
    open(sealed) {
      const buf = Buffer.from(sealed);
      if (buf.length < 1 + IV_BYTES + TAG_BYTES || buf[0] !== VERSION) {
        throw new Error('not a sealed value of a known version');
      }
      const decipher = createDecipheriv('aes-256-gcm', sealKey, buf.subarray(1, 1 + IV_BYTES));
      decipher.setAuthTag(buf.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(buf.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}

/** A fresh random data key (for development data directories and tests). */
export function generateDataKey(): Buffer {
  return randomBytes(32);
}

/** Parses a base64 data key (HOUFU_DATA_KEY); throws unless it decodes to 32 bytes. */
export function parseDataKey(base64: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new RangeError('HOUFU_DATA_KEY must be 32 bytes, base64-encoded');
  return key;
}
