import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { wasmTieringFlags } from '../db/embedded/host.js';
import { serverHeapFlags, tuneServerHeap } from './server-heap.js';

describe('the V8 flags that bound the server memory', () => {
  it('serve sets the heap growing factor', () => {
    const set: string[] = [];
    tuneServerHeap((flag) => set.push(flag));
    expect(set).toEqual(['--heap-growing-percent=50']);
  });

  // v8.setFlagsFromString ignores a flag V8 does not know; the command line refuses it (exit 9,
  // "bad option"), so a Node upgrade that drops one of them fails here instead of silently.
  it.each([...serverHeapFlags, ...wasmTieringFlags])('this Node knows %s', (flag) => {
    const run = spawnSync(process.execPath, [flag, '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
