import type { WorkerOptions } from 'node:worker_threads';
import { afterAll, describe, expect, it, vi } from 'vitest';

// What the host asks of the thread, recorded on the way through to the real module.
const workerOptions = vi.hoisted((): WorkerOptions[] => []);
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

const { embeddedSettings, startEmbeddedDatabase } = await import('./host.js');

describe('the embedded database memory (issue 11: RSS)', () => {
  const started = startEmbeddedDatabase({ dataDir: 'memory://', settings: embeddedSettings });
  afterAll(async () => {
    await (await started).close();
  });

  it('gives the thread a small young generation', async () => {
    await started;
    expect(workerOptions[0]?.resourceLimits?.maxYoungGenerationSizeMb).toBe(6);
  });
});
