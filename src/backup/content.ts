import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { StorageNotFoundError, type DocumentStorage } from '../infra/storage/storage.js';
import { BLOB_CHUNK, BackupError, type ControlLine } from './format.js';
import type { SqlSession } from './session.js';

/**
 * Document content in a backup. Rows only name their objects (`storage_key`, `thumbnail_key`);
 * the bytes live behind DocumentStorage. A backup with content reads each live document's
 * objects through the configured storage (decrypted, when encryption at rest is on) and a
 * restore writes them through the target's storage (encrypted with the target's key, if any).
 */

/**
 * Keys of every document's content and thumbnail in the backup's snapshot, soft-deleted ones
 * included: a soft delete promises the record (and its file) is kept, so a backup keeps it too.
 */
export async function contentKeys(session: SqlSession): Promise<string[]> {
  const [exists] = await session.query(`select to_regclass('documents') is not null`);
  if (exists?.[0] !== true) return [];
  const rows = await session.query(
    `select k from documents d, lateral (values (d.storage_key), (d.thumbnail_key)) v(k)
      where k is not null order by d.id, k`,
  );
  return rows.map((row) => String(row[0]));
}

type Emit = (line: ControlLine | string) => Promise<void>;

/**
 * Writes one object as `blob`, base64 chunks and `blob_end`. Returns false (and writes nothing)
 * when the storage has no such object: one lost file must not make every backup impossible; the
 * caller reports it. Any other failure (an encrypted object that fails its integrity check) fails
 * the backup.
 */
export async function emitBlob(
  storage: DocumentStorage,
  key: string,
  emit: Emit,
): Promise<boolean> {
  let body;
  try {
    body = await storage.get(key);
  } catch (error) {
    if (error instanceof StorageNotFoundError) return false;
    throw error;
  }
  await emit({ t: 'blob', key });
  const hash = createHash('sha256');
  let size = 0;
  let held: Buffer[] = [];
  let heldBytes = 0;
  const flush = async (all: boolean) => {
    let buffer = Buffer.concat(held);
    while (buffer.length >= BLOB_CHUNK || (all && buffer.length > 0)) {
      const piece = buffer.subarray(0, BLOB_CHUNK);
      buffer = buffer.subarray(piece.length);
      await emit(piece.toString('base64'));
    }
    held = buffer.length > 0 ? [buffer] : [];
    heldBytes = buffer.length;
  };
  for await (const chunk of body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    held.push(chunk);
    heldBytes += chunk.length;
    if (heldBytes >= BLOB_CHUNK) await flush(false);
  }
  await flush(true);
  await emit({ t: 'blob_end', key, size, sha256: hash.digest('hex') });
  return true;
}

/**
 * Receives one object from a restore stream and puts it into storage as it arrives. Objects that
 * did not exist before are remembered, so a failed restore can remove exactly what it added and
 * nothing else (the target storage may be shared with the source, with the same keys).
 */
export class BlobSink {
  /** Keys this restore created, for clean-up on failure. */
  readonly created: string[] = [];
  /** Objects received whole. */
  count = 0;
  private current:
    | {
        key: string;
        body: PassThrough;
        stored: Promise<void>;
        hash: ReturnType<typeof createHash>;
        size: number;
      }
    | undefined;

  constructor(private readonly storage: DocumentStorage) {}

  async begin(key: string): Promise<void> {
    if (this.current) throw new BackupError(`blob ${key} starts inside blob ${this.current.key}`);
    const existed = await this.exists(key);
    const body = new PassThrough();
    // Destroying it (a bad checksum, a failed restore) is how a put is aborted; the driver sees
    // the error through its own pipeline, which may not be attached yet.
    body.on('error', () => undefined);
    const stored = this.storage.put(key, body);
    // Observed by chunk() and end(); without a handler an early failure would be unhandled.
    stored.catch(() => undefined);
    if (!existed) this.created.push(key);
    this.current = { key, body, stored, hash: createHash('sha256'), size: 0 };
  }

  async chunk(base64: string): Promise<void> {
    const current = this.current;
    if (!current) throw new BackupError('content outside a blob');
    const bytes = Buffer.from(base64, 'base64');
    current.hash.update(bytes);
    current.size += bytes.length;
    if (!current.body.write(bytes)) {
      await Promise.race([once(current.body, 'drain'), current.stored]);
    }
  }

  async end(key: string, size: number, sha256: string): Promise<void> {
    const current = this.current;
    if (current?.key !== key) throw new BackupError(`blob_end for ${key} without its blob`);
    this.current = undefined;
    if (current.size !== size || current.hash.digest('hex') !== sha256) {
      current.body.destroy(new BackupError(`blob ${key} does not match its recorded checksum`));
      await current.stored.catch(() => undefined);
      throw new BackupError(`blob ${key} does not match its recorded checksum`);
    }
    current.body.end();
    await current.stored;
    this.count += 1;
  }

  /** Stops an unfinished object and removes every object this restore created. */
  async undo(): Promise<void> {
    if (this.current) {
      this.current.body.destroy(new Error('restore failed'));
      await this.current.stored.catch(() => undefined);
      this.current = undefined;
    }
    for (const key of this.created) await this.storage.delete(key).catch(() => undefined);
  }

  private async exists(key: string): Promise<boolean> {
    try {
      const body = await this.storage.get(key);
      body.destroy();
      return true;
    } catch (error) {
      if (error instanceof StorageNotFoundError) return false;
      throw error;
    }
  }
}
