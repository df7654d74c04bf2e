import * as crypto from 'node:crypto';
import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

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
  /**
   * Opens many values at once, in order, with `open`'s errors. From {@link OPEN_IN_WORKERS} values on
   * the work runs in worker threads (started on first use, one fewer than the CPUs, at most 4), so
   * that a bank file of a million lines does not spend the request thread on AES: on the machine of
   * docs/performance.md opening one account costs ~5 µs, more than the rest of its line.
   */
  openMany(sealed: readonly (Buffer | Uint8Array)[]): Promise<string[]>;
}

/** From this many values on, {@link Sealer.openMany} uses the worker threads. */
export const OPEN_IN_WORKERS = 512;

const VERSION = 1;
const IV_BYTES = 12;

export function createSealer(dataKey: Buffer): Sealer {
  if (dataKey.length !== 32) throw new RangeError('the data key must be 32 bytes');
  const derive = (info: string) =>
    Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `houfu ${info} v1`, 32));
  const hashKey = derive('lookup');
  const sealKey = derive('seal');
  let pool: OpeningPool | undefined;
  return {
    lookupHash: (value) => createHmac('sha256', hashKey).update(value, 'utf8').digest(),
    seal(value) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), body]);
    },
    open: (sealed) => openSealed(crypto, sealKey, sealed),
    openMany(sealed) {
      if (sealed.length < OPEN_IN_WORKERS)
        return Promise.resolve(sealed.map((v) => openSealed(crypto, sealKey, v)));
      pool ??= new OpeningPool(sealKey);
      return pool.open(sealed);
    },
  };
}

/**
 * Opens one sealed value: `version (1) | IV (12) | tag (16) | ciphertext`. Self-contained — no
 * imports, constants or inner functions — because its source text is also the worker threads' code.
 */
function openSealed(c: typeof crypto, key: Buffer, sealed: Buffer | Uint8Array): string {
  // 29 = version (1) + IV (12) + tag (16); VERSION is 1 (written out: the worker's copy has no constants).
  const buf = Buffer.isBuffer(sealed)
    ? sealed
    : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (buf.length < 29 || buf[0] !== 1) throw new Error('not a sealed value of a known version');
  const decipher = c.createDecipheriv('aes-256-gcm', key, buf.subarray(1, 13));
  decipher.setAuthTag(buf.subarray(13, 29));
  const head = decipher.update(buf.subarray(29));
  const tail = decipher.final();
  return (tail.length === 0 ? head : Buffer.concat([head, tail])).toString('utf8');
}

/** A request to a worker: the values end to end in `bytes`, value i from `ends[i - 1]` (or 0) to `ends[i]`. */
interface OpenRequest {
  id: number;
  bytes: Uint8Array;
  ends: Uint32Array;
}
type OpenReply = { id: number; values: string[] } | { id: number; error: string };

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const openSealed = ${openSealed.toString()};
const key = Buffer.from(workerData.key);
parentPort.on('message', ({ id, bytes, ends }) => {
  try {
    const values = new Array(ends.length);
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      values[i] = openSealed(crypto, key, Buffer.from(bytes.buffer, bytes.byteOffset + start, ends[i] - start));
      start = ends[i];
    }
    parentPort.postMessage({ id, values });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message) });
  }
});
`;

/**
 * The worker threads of one sealer. Each request goes to the worker with the fewest values pending;
 * the workers are unreferenced (they never keep the process alive) and a worker that dies fails its
 * pending requests and is replaced on the next one.
 */
class OpeningPool {
  private readonly workers: Slot[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;

  constructor(private readonly key: Buffer) {}

  open(sealed: readonly (Buffer | Uint8Array)[]): Promise<string[]> {
    const ends = new Uint32Array(sealed.length);
    let length = 0;
    for (const [i, v] of sealed.entries()) {
      length += v.byteLength;
      ends[i] = length;
    }
    const bytes = new Uint8Array(length);
    for (const [i, v] of sealed.entries()) bytes.set(v, i === 0 ? 0 : ends[i - 1]);
    const slot = this.pick();
    const id = this.nextId++;
    slot.pending += sealed.length;
    return new Promise<string[]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, bytes, ends } satisfies OpenRequest, [bytes.buffer, ends.buffer]);
    }).finally(() => {
      slot.pending -= sealed.length;
    });
  }

  private pick(): Slot {
    const max = Math.max(1, Math.min(4, availableParallelism() - 1));
    if (this.workers.length < max) return this.start();
    return this.workers.reduce((a, b) => (b.pending < a.pending ? b : a));
  }

  private start(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { key: this.key } });
    worker.unref();
    const slot: Slot = { worker, pending: 0 };
    worker.on('message', (reply: OpenReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if ('error' in reply) w.reject(new Error(reply.error));
      else w.resolve(reply.values);
    });
    const fail = (error: Error) => {
      const at = this.workers.indexOf(slot);
      if (at >= 0) this.workers.splice(at, 1);
      for (const [id, w] of this.waiting) {
        if (w.slot !== slot) continue;
        this.waiting.delete(id);
        w.reject(error);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`an opening worker exited (${code})`)));
    this.workers.push(slot);
    return slot;
  }
}

interface Slot {
  worker: Worker;
  /** Values sent and not yet answered. */
  pending: number;
}

interface Waiting {
  resolve(values: string[]): void;
  reject(error: Error): void;
  slot: Slot;
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
