/**
 * Sealing: values round-trip, tampering is detected, and `openMany` (worker threads from
 * OPEN_IN_WORKERS values on) gives exactly what `open` gives, in order, with its errors.
 */
import { describe, expect, it } from 'vitest';
import { createSealer, generateDataKey, OPEN_IN_WORKERS } from '../src/sealing.js';

const sealer = createSealer(generateDataKey());
const accounts = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `62284800${String(from + i).padStart(11, '0')}`);

describe('sealing', () => {
  it('a sealed value opens to itself; the same value seals differently each time', () => {
    for (const value of ['110101199003074514', '6228480012345678901', '李四', '']) {
      const a = sealer.seal(value);
      expect(sealer.open(a)).toBe(value);
      expect(sealer.open(new Uint8Array(a))).toBe(value);
      expect(sealer.seal(value).equals(a)).toBe(false);
    }
  });

  it('a changed byte, a wrong key or an unknown version is refused', () => {
    const sealed = sealer.seal('6228480012345678901');
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1] = (flipped.at(-1) ?? 0) ^ 1;
    expect(() => sealer.open(flipped)).toThrow();
    expect(() => createSealer(generateDataKey()).open(sealed)).toThrow();
    const version = Buffer.from(sealed);
    version[0] = 2;
    expect(() => sealer.open(version)).toThrow(/known version/);
    expect(() => sealer.open(sealed.subarray(0, 20))).toThrow(/known version/);
  });

  it.each([
    ['below the worker threshold', OPEN_IN_WORKERS - 1],
    ['in worker threads', OPEN_IN_WORKERS * 4 + 3],
  ])('openMany %s gives what open gives, in order', async (_, n) => {
    const values = accounts(n);
    const sealed = values.map((v) => sealer.seal(v));
    const opened = await sealer.openMany(sealed);
    expect(opened).toEqual(values);
    expect(opened).toEqual(sealed.map((s) => sealer.open(s)));
    // The sealed buffers are copied for the workers, not taken from the caller.
    expect(sealer.open(sealed[n - 1] as Buffer)).toBe(values[n - 1]);
  });

  it('concurrent openMany calls each get their own values', async () => {
    const batches = [0, 1, 2, 3, 4, 5].map((k) => accounts(OPEN_IN_WORKERS + 100 * k, 100_000 * k));
    const opened = await Promise.all(batches.map((b) => sealer.openMany(b.map((v) => sealer.seal(v)))));
    expect(opened).toEqual(batches);
  });

  it('one bad value fails the whole openMany, and the next call still works', async () => {
    const values = accounts(OPEN_IN_WORKERS * 2);
    const sealed = values.map((v) => sealer.seal(v));
    const bad = Buffer.from(sealed[700] as Buffer);
    bad[40] = (bad[40] ?? 0) ^ 0xff;
    await expect(sealer.openMany(sealed.map((s, i) => (i === 700 ? bad : s)))).rejects.toThrow();
    const other = createSealer(generateDataKey()).seal('6228480012345678901');
    await expect(sealer.openMany([...sealed, other])).rejects.toThrow();
    await expect(sealer.openMany(sealed)).resolves.toEqual(values);
  });
});
