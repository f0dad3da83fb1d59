import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecryptStream } from './decrypt-stream.js';
import { encryptedStorage } from './encrypted.js';
import { deriveDocumentKeys, headerLength, tagLength } from './encryption-format.js';
import { createLocalStorage } from './local.js';
import {
  failingSource,
  filesBelow,
  readAll,
  sha256,
  sourceOf,
  storageContract,
} from '../../../test/storage-contract.js';
import { StorageIntegrityError, type DocumentStorage } from './storage.js';

const key = 'medcore-test-documents-key-0123456789abcdef';
const otherKey = 'another-medcore-documents-key-0123456789abcdef';

storageContract('encrypted(local)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medcore-storage-test-'));
  return {
    storage: encryptedStorage(await createLocalStorage({ dir }), key),
    listStored: () => filesBelow(dir),
    stopBackend: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('encryption at rest', () => {
  let dir: string;
  let raw: DocumentStorage;
  let sealed: DocumentStorage;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medcore-storage-test-'));
    raw = await createLocalStorage({ dir });
    sealed = encryptedStorage(raw, key);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Recognisable plaintext: any 64-byte window of it found on disk would be a leak. */
  const plaintext = Buffer.from(
    'PATIENT Jane Doe, DOB 1970-01-01, diagnosis: confidential. '.repeat(20_000),
  );
  const leaks = (bytes: Buffer) => bytes.includes(plaintext.subarray(0, 64));

  async function stored(storageKey: string): Promise<Buffer> {
    return readAll(await raw.get(storageKey));
  }

  async function expectIntegrityError(storageKey: string, storage = sealed, cause?: RegExp) {
    const error: unknown = await storage
      .get(storageKey)
      .then(readAll)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(StorageIntegrityError);
    if (cause) expect(String((error as Error).cause)).toMatch(cause);
  }

  it('stores header + ciphertext + tag, never the plaintext, and different bytes each time', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await sealed.put(a, sourceOf(plaintext));
    await sealed.put(b, sourceOf(plaintext));
    const [bytesA, bytesB] = [await stored(a), await stored(b)];
    expect(bytesA.length).toBe(headerLength + plaintext.length + tagLength);
    expect(leaks(bytesA)).toBe(false);
    expect(bytesA.equals(bytesB)).toBe(false);
    expect(bytesA.subarray(0, 5)).toEqual(Buffer.from([...Buffer.from('MCDE'), 1]));
    expect(sha256(await readAll(await sealed.get(a)))).toBe(sha256(plaintext));
  });

  it('never writes plaintext to disk, not even mid-upload or after a failed upload', async () => {
    const slow = randomUUID();
    const upload = sealed.put(slow, sourceOf(plaintext, 5));
    await new Promise((resolve) => setTimeout(resolve, 60));
    const midway = await filesBelow(dir);
    expect(midway.some((file) => file.startsWith('.incoming'))).toBe(true);
    await upload;
    await expect(
      sealed.put(randomUUID(), failingSource(300_000, new Error('x'))),
    ).rejects.toThrow();
    for (const file of [
      ...midway.filter((f) => f.startsWith('.incoming')),
      ...(await filesBelow(dir)),
    ]) {
      const bytes = await readFile(join(dir, file)).catch(() => Buffer.alloc(0));
      expect(leaks(bytes), file).toBe(false);
    }
  });

  it('fails the read stream on a flipped byte anywhere', async () => {
    const storageKey = randomUUID();
    await sealed.put(storageKey, sourceOf(randomBytes(200_000)));
    const original = await stored(storageKey);
    // magic, version, key id, wrap IV, wrapped key, wrap tag, content IV, ciphertext, content tag
    for (const at of [0, 4, 6, 15, 30, 60, 80, headerLength, 100_000, original.length - 1]) {
      const damaged = Buffer.from(original);
      damaged[at] = (damaged[at] ?? 0) ^ 0x01;
      await raw.put(storageKey, Readable.from([damaged]));
      await expectIntegrityError(storageKey);
    }
  });

  it('fails the read stream on truncation, including at the very end', async () => {
    const storageKey = randomUUID();
    await sealed.put(storageKey, sourceOf(randomBytes(100_000)));
    const original = await stored(storageKey);
    for (const length of [
      0,
      10,
      headerLength,
      headerLength + 15,
      original.length - 16,
      original.length - 1,
    ]) {
      await raw.put(storageKey, Readable.from([original.subarray(0, length)]));
      await expectIntegrityError(storageKey, sealed, /truncated|authentication/);
    }
  });

  it('fails the read stream with a wrong key, and says so', async () => {
    const storageKey = randomUUID();
    await sealed.put(storageKey, sourceOf(randomBytes(1000)));
    await expectIntegrityError(
      storageKey,
      encryptedStorage(raw, otherKey),
      /different DOCUMENTS_ENCRYPTION_KEY/,
    );
  });

  it('fails the read stream for an object moved to another key', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await sealed.put(a, sourceOf(randomBytes(1000)));
    await raw.put(b, Readable.from([await stored(a)]));
    await expectIntegrityError(b, sealed, /authentication/);
  });

  it('fails the read stream for an object stored without encryption', async () => {
    const storageKey = randomUUID();
    await raw.put(storageKey, sourceOf(plaintext));
    await expectIntegrityError(storageKey, sealed, /not encrypted/);
  });

  it('decrypts whatever the chunking of the stored bytes (the tag is held back)', async () => {
    const storageKey = randomUUID();
    const bytes = randomBytes(5_000);
    await sealed.put(storageKey, sourceOf(bytes));
    const stream = await stored(storageKey);
    const pieces: Buffer[] = [];
    for (let at = 0; at < stream.length;) {
      const size = 1 + Math.floor(Math.random() * 40);
      pieces.push(stream.subarray(at, at + size));
      at += size;
    }
    const out = Readable.from(pieces).pipe(new DecryptStream(deriveDocumentKeys(key), storageKey));
    expect((await readAll(out)).equals(bytes)).toBe(true);
  });
});
