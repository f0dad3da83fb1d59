import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertPutKey,
  assertStorageKey,
  StorageNotFoundError,
  type DocumentStorage,
} from './storage.js';

export interface LocalStorageOptions {
  /** Root directory; created (mode 0700) when missing. */
  dir: string;
  /** Remove the whole directory on close (the temporary directory used with DATA_DIR=memory://). */
  removeOnClose?: boolean;
}

/**
 * Unfinished writes live here, inside the root so that they are on the same filesystem and the
 * final rename is atomic. One directory (rather than a temp file beside each target) means the
 * leftovers of a crash mid-upload can be swept at start without walking every shard. The leading
 * dot keeps it clear of shard names (two hex characters).
 */
const incomingDir = '.incoming';

/** Leftovers younger than this may belong to another instance sharing the directory. */
const staleIncomingMs = 24 * 60 * 60 * 1000;

/**
 * Keys are UUIDs, mostly v7, whose leading characters are a timestamp: sharding on them would pile
 * a day's files into one directory. The last characters are random in v4 and v7 alike, so two
 * levels of 256 taken from the end spread files evenly, and `<id>.thumb` lands next to `<id>`.
 */
export function shardPath(key: string): string[] {
  const uuidEnd = 36;
  return [key.slice(uuidEnd - 2, uuidEnd), key.slice(uuidEnd - 4, uuidEnd - 2), key];
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Makes a rename or unlink durable: the directory entry itself must reach the disk. */
async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Some platforms (Windows) and filesystems cannot fsync a directory; the data is still synced.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}

async function sweepIncoming(dir: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (info && now - info.mtimeMs > staleIncomingMs) await rm(path, { force: true });
  }
}

export async function createLocalStorage(options: LocalStorageOptions): Promise<DocumentStorage> {
  const root = options.dir;
  const incoming = join(root, incomingDir);
  await mkdir(incoming, { recursive: true, mode: 0o700 });
  await sweepIncoming(incoming);

  const pathOf = (key: string) => join(root, ...shardPath(key));

  return {
    driver: 'local',

    async put(key, body: Readable) {
      assertPutKey(key, body);
      const target = pathOf(key);
      const targetDir = join(target, '..');
      const temp = join(incoming, `${randomUUID()}.part`);
      let renamed = false;
      try {
        const handle = await open(temp, 'wx', 0o600);
        // `flush` fsyncs before the descriptor closes, and pipeline resolves only after the
        // close; if the body fails, pipeline destroys the file stream (closing it) and rejects
        // with the body's error, and if the write fails, it destroys the body.
        await pipeline(body, handle.createWriteStream({ flush: true }));
        await mkdir(targetDir, { recursive: true, mode: 0o700 });
        await rename(temp, target);
        renamed = true;
        await syncDir(targetDir);
      } catch (error) {
        body.destroy();
        // A put that rejects leaves nothing under the key, even if only the final fsync failed.
        await rm(renamed ? target : temp, { force: true });
        throw error;
      }
    },

    async get(key) {
      assertStorageKey(key);
      // Opening first turns a missing file into StorageNotFoundError before any byte is promised,
      // and the open descriptor keeps the content readable even if it is deleted meanwhile.
      const handle = await open(pathOf(key), 'r').catch((error: unknown) => {
        throw isNotFound(error) ? new StorageNotFoundError(key) : error;
      });
      return handle.createReadStream();
    },

    async delete(key) {
      assertStorageKey(key);
      // Empty shard directories are kept: removing them would race with a concurrent put.
      await unlink(pathOf(key)).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    },

    async check() {
      await access(incoming, constants.R_OK | constants.W_OK);
    },

    async close() {
      if (options.removeOnClose) await rm(root, { recursive: true, force: true });
    },
  };
}
