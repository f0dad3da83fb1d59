import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { createStorage } from './index.js';
import { createLocalStorage, shardPath } from './local.js';
import { filesBelow, readAll, sourceOf, storageContract } from '../../../test/storage-contract.js';

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'medcore-storage-test-'));
  made.push(dir);
  return dir;
}

storageContract('local', async () => {
  const dir = join(await tempDir(), 'documents');
  return {
    storage: await createLocalStorage({ dir }),
    listStored: () => filesBelow(dir),
    stopBackend: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('local storage layout', () => {
  it('shards by the random end of the UUID, keeping suffixed keys beside their document', () => {
    const id = '0190f3c4-1f2a-7b3c-8d4e-5f60718293ab';
    expect(shardPath(id)).toEqual(['ab', '93', id]);
    expect(shardPath(`${id}.thumb`)).toEqual(['ab', '93', `${id}.thumb`]);
  });

  it('writes files 0600 in directories 0700', async () => {
    const dir = join(await tempDir(), 'documents');
    const storage = await createLocalStorage({ dir });
    const key = randomUUID();
    await storage.put(key, sourceOf(randomBytes(1000)));
    const [a, b] = shardPath(key) as [string, string, string];
    expect((await stat(join(dir, a, b, key))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, a, b))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, a))).mode & 0o777).toBe(0o700);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    await storage.close();
    expect(existsSync(dir), 'a configured directory is kept on close').toBe(true);
  });

  it('sweeps stale unfinished writes at start, and only stale ones', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, '.incoming'), { recursive: true });
    const stale = join(dir, '.incoming', 'stale.part');
    const fresh = join(dir, '.incoming', 'fresh.part');
    await writeFile(stale, 'x');
    await writeFile(fresh, 'x');
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await utimes(stale, twoDaysAgo, twoDaysAgo);
    await createLocalStorage({ dir });
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
  });
});

describe('createStorage (local)', () => {
  it('uses a fresh temporary directory for DATA_DIR=memory:// and removes it on close', async () => {
    const config = loadConfig({ DATA_DIR: 'memory://' });
    const storage = await createStorage(config);
    const key = randomUUID();
    await storage.put(key, sourceOf(Buffer.from('hello')));
    const dirs = (await readdir(tmpdir())).filter((name) => name.startsWith('medcore-documents-'));
    const mine = [];
    for (const name of dirs) {
      if ((await filesBelow(join(tmpdir(), name))).some((file) => file.endsWith(key))) {
        mine.push(join(tmpdir(), name));
      }
    }
    expect(mine).toHaveLength(1);
    await storage.close();
    expect(existsSync(mine[0] as string)).toBe(false);
  });

  it('uses STORAGE_DIR, else DATA_DIR/documents, and encrypts when a key is set', async () => {
    const dataDir = await tempDir();
    const plain = await createStorage(loadConfig({ DATA_DIR: dataDir }));
    const key = randomUUID();
    await plain.put(key, sourceOf(Buffer.from('plain text')));
    expect(await filesBelow(join(dataDir, 'documents'))).toEqual([join(...shardPath(key))]);

    const storageDir = await tempDir();
    const encrypted = await createStorage(
      loadConfig({
        DATA_DIR: dataDir,
        STORAGE_DIR: storageDir,
        DOCUMENTS_ENCRYPTION_KEY: 'k'.repeat(40),
      }),
    );
    await encrypted.put(key, sourceOf(Buffer.from('plain text')));
    const raw = await readAll(
      await createLocalStorage({ dir: storageDir }).then((s) => s.get(key)),
    );
    expect(raw.subarray(0, 4).toString()).toBe('MCDE');
    expect((await readAll(await encrypted.get(key))).toString()).toBe('plain text');
    await Promise.all([plain.close(), encrypted.close()]);
  });
});
