import type { WorkerOptions } from 'node:worker_threads';
import { afterAll, describe, expect, it, vi } from 'vitest';

// What the host asks of V8 and of the thread, recorded on the way through to the real modules.
const flagsSet = vi.hoisted((): string[] => []);
const workerOptions = vi.hoisted((): WorkerOptions[] => []);
vi.mock('node:v8', async (importOriginal) => {
  const v8 = await importOriginal<typeof import('node:v8')>();
  return {
    ...v8,
    setFlagsFromString: (flag: string) => {
      flagsSet.push(flag);
      v8.setFlagsFromString(flag);
    },
  };
});
vi.mock('node:worker_threads', async (importOriginal) => {
  const threads = await importOriginal<typeof import('node:worker_threads')>();
  class RecordingWorker extends threads.Worker {
    constructor(file: string | URL, options: WorkerOptions = {}) {
      workerOptions.push(options);
      super(file, options);
    }
  }
  return { ...threads, Worker: RecordingWorker };
});

const { embeddedSettings, startEmbeddedDatabase, wasmTieringFlags } = await import('./host.js');

describe('the embedded database memory (issue 11: RSS)', () => {
  const started = startEmbeddedDatabase({ dataDir: 'memory://', settings: embeddedSettings });
  afterAll(async () => {
    await (await started).close();
  });

  it('keeps PGlite on baseline WebAssembly code: no optimizing recompilation', async () => {
    await started;
    expect(wasmTieringFlags).toEqual(['--no-wasm-dynamic-tiering', '--no-wasm-tier-up']);
    expect(flagsSet).toEqual(expect.arrayContaining([...wasmTieringFlags]));
  });

  it('gives the thread a small young generation', async () => {
    await started;
    expect(workerOptions[0]?.resourceLimits?.maxYoungGenerationSizeMb).toBe(6);
  });
});
