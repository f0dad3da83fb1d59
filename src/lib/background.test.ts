import { describe, expect, it } from 'vitest';
import { createBackgroundTasks } from './background.js';

function deferred(): { promise: Promise<void>; release: () => void } {
  let release: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

describe('background tasks', () => {
  it('returns before the task ends, and drain waits for it', async () => {
    const tasks = createBackgroundTasks();
    const gate = deferred();
    let done = false;
    await tasks.run(async () => {
      await gate.promise;
      done = true;
    }, fail);
    expect(done).toBe(false);
    expect(tasks.pending).toBe(1);
    gate.release();
    await tasks.drain();
    expect(done).toBe(true);
    expect(tasks.pending).toBe(0);
  });

  it('hands a failure to onError instead of rejecting anywhere', async () => {
    const tasks = createBackgroundTasks();
    const errors: unknown[] = [];
    await tasks.run(
      () => Promise.reject(new Error('boom')),
      (error) => errors.push(error),
    );
    await tasks.drain();
    expect(errors).toHaveLength(1);
  });

  it('makes the caller wait for its own task once the limit is reached', async () => {
    const tasks = createBackgroundTasks(1);
    const first = deferred();
    const second = deferred();
    await tasks.run(() => first.promise, fail);
    let returned = false;
    const call = tasks
      .run(() => second.promise, fail)
      .then(() => {
        returned = true;
      });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(returned).toBe(false);
    second.release();
    await call;
    expect(returned).toBe(true);
    // The first task is still running: the caller waited for its own task only.
    expect(tasks.pending).toBe(1);
    first.release();
    await tasks.drain();
  });

  it('stops draining at the timeout', async () => {
    const tasks = createBackgroundTasks();
    const gate = deferred();
    await tasks.run(() => gate.promise, fail);
    const started = Date.now();
    await tasks.drain(50);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(tasks.pending).toBe(1);
    gate.release();
    await tasks.drain();
  });
});

function fail(error: unknown): void {
  throw new Error(`unexpected task failure: ${String(error)}`);
}
