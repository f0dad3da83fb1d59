/**
 * The behaviour every DocumentStorage must show, as one vitest suite registered per driver.
 * Tests share one storage per driver and make their own keys, so they are order-independent,
 * except the last one, which takes the backend away.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageNotFoundError, type DocumentStorage } from '../src/infra/storage/storage.js';

export interface StorageHarness {
  storage: DocumentStorage;
  /** Everything the backend holds (object names, or files including temporaries), sorted. */
  listStored(): Promise<string[]>;
  /** Takes the backend away: stops the server, removes the directory. */
  stopBackend(): Promise<void>;
  /** Releases whatever else the harness holds; after storage.close(). */
  teardown?(): Promise<void>;
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every file below `dir`, relative, sorted (temporaries included); none when it is gone. */
export async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** `bytes` in 64 KiB chunks, each after a pause when `delayMs` is set (a slow client). */
export function sourceOf(bytes: Buffer, delayMs = 0): Readable {
  async function* chunks() {
    for (let at = 0; at < bytes.length; at += 65_536) {
      if (delayMs > 0) await sleep(delayMs);
      yield bytes.subarray(at, at + 65_536);
    }
  }
  return Readable.from(chunks());
}

/** Sends `bytesBeforeFailure` random bytes, then fails with `error` (or, without one, is destroyed). */
export function failingSource(bytesBeforeFailure: number, error?: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (sent >= bytesBeforeFailure) {
          this.destroy(error);
          return;
        }
        const size = Math.min(65_536, bytesBeforeFailure - sent);
        sent += size;
        this.push(randomBytes(size));
      });
    },
  });
}

export const badKeys = [
  '',
  '../x',
  'a/b',
  'x',
  `${randomUUID()}/../x`,
  randomUUID().toUpperCase(),
  `${randomUUID()}.THUMB`,
  `${randomUUID()}.`,
  `../${randomUUID()}`,
  `${randomUUID()}\0`,
];

export function storageContract(
  name: string,
  setup: () => Promise<StorageHarness>,
  skipReason?: string,
): void {
  if (skipReason !== undefined) {
    describe.skip(`${name} storage contract (skipped: ${skipReason})`, () => {
      it('needs its backend', () => undefined);
    });
    return;
  }

  describe(`${name} storage contract`, () => {
    let h: StorageHarness;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      await h.storage.close();
      await h.teardown?.();
    });

    it('round-trips a few MB of random bytes', async () => {
      const key = randomUUID();
      const bytes = randomBytes(6 * 1024 * 1024 + 123);
      await h.storage.put(key, sourceOf(bytes));
      expect(sha256(await readAll(await h.storage.get(key)))).toBe(sha256(bytes));
    });

    it('round-trips an empty object and a suffixed key', async () => {
      const key = `${randomUUID()}.thumb`;
      await h.storage.put(key, sourceOf(Buffer.alloc(0)));
      expect((await readAll(await h.storage.get(key))).length).toBe(0);
    });

    it('streams a slow source', async () => {
      const key = randomUUID();
      const bytes = randomBytes(12 * 65_536);
      await h.storage.put(key, sourceOf(bytes, 25));
      expect(sha256(await readAll(await h.storage.get(key)))).toBe(sha256(bytes));
    });

    for (const [label, bytesBefore] of [
      ['early', 100_000],
      ['after several MB', 6 * 1024 * 1024],
    ] as const) {
      it(`rejects with the source's error and leaves nothing when it fails ${label}`, async () => {
        const key = randomUUID();
        const before = await h.listStored();
        const error = new Error('virus found');
        await expect(h.storage.put(key, failingSource(bytesBefore, error))).rejects.toBe(error);
        await expect(h.storage.get(key)).rejects.toBeInstanceOf(StorageNotFoundError);
        expect(await h.listStored()).toEqual(before);
      });
    }

    it('rejects and leaves nothing when the source is destroyed without an error', async () => {
      const key = randomUUID();
      const before = await h.listStored();
      await expect(h.storage.put(key, failingSource(200_000))).rejects.toThrow();
      await expect(h.storage.get(key)).rejects.toBeInstanceOf(StorageNotFoundError);
      expect(await h.listStored()).toEqual(before);
    });

    it('replaces an object on overwrite; a failed overwrite keeps the old one whole', async () => {
      const key = randomUUID();
      const first = randomBytes(300_000);
      const second = randomBytes(200_000);
      await h.storage.put(key, sourceOf(first));
      await h.storage.put(key, sourceOf(second));
      expect(sha256(await readAll(await h.storage.get(key)))).toBe(sha256(second));
      await expect(h.storage.put(key, failingSource(150_000, new Error('cut')))).rejects.toThrow(
        'cut',
      );
      expect(sha256(await readAll(await h.storage.get(key)))).toBe(sha256(second));
    });

    it('deletes idempotently', async () => {
      const key = randomUUID();
      await h.storage.put(key, sourceOf(randomBytes(1000)));
      await h.storage.delete(key);
      await expect(h.storage.get(key)).rejects.toBeInstanceOf(StorageNotFoundError);
      await h.storage.delete(key);
      await h.storage.delete(randomUUID());
    });

    it('reports a missing object as StorageNotFoundError', async () => {
      const key = randomUUID();
      const error: unknown = await h.storage.get(key).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageNotFoundError);
      expect((error as StorageNotFoundError).key).toBe(key);
    });

    it('refuses keys it did not generate, before touching the backend', async () => {
      const before = await h.listStored();
      for (const key of badKeys) {
        const body = sourceOf(Buffer.from('x'));
        await expect(h.storage.put(key, body), key).rejects.toThrow(/storage key/);
        expect(body.destroyed, 'the refused body is released').toBe(true);
        await expect(h.storage.get(key), key).rejects.toThrow(/storage key/);
        await expect(h.storage.delete(key), key).rejects.toThrow(/storage key/);
      }
      expect(await h.listStored()).toEqual(before);
    });

    it('answers check() while the backend is up', async () => {
      await h.storage.check();
    });

    // Last: the backend does not come back.
    it('rejects check() within a few seconds once the backend is gone', async () => {
      await h.stopBackend();
      const started = Date.now();
      await expect(h.storage.check()).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });
}
