import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

function capture(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { stream, text: () => text };
}

describe('progress', () => {
  it('prints one plain line per tenth, then a summary, when not on a terminal', () => {
    const out = capture(false);
    const progress = createProgress({ label: 'backup', total: 1000, stream: out.stream });
    for (let i = 0; i < 100; i++) progress.increment(10);
    progress.stop();
    progress.stop();
    const lines = out.text().trimEnd().split('\n');
    expect(lines.slice(0, 9)).toEqual(
      [10, 20, 30, 40, 50, 60, 70, 80, 90].map((p) => `backup: ${p}% (${p * 10}/1000 rows)`),
    );
    expect(lines[9]).toMatch(/^backup: done, 1000 rows in \d+\.\d s$/);
    expect(lines).toHaveLength(10);
  });

  it('prints one line for a step that crosses several tenths', () => {
    const out = capture(false);
    const progress = createProgress({ label: 'x', total: 100, unit: 'bytes', stream: out.stream });
    progress.increment(55);
    progress.increment(1);
    progress.increment(44);
    expect(out.text()).toBe('x: 50% (55/100 bytes)\n');
  });

  it('counts without a total every 100,000 units', () => {
    const out = capture(false);
    const progress = createProgress({ label: 'gen', total: 0, stream: out.stream });
    for (let i = 0; i < 25; i++) progress.increment(10_000);
    expect(out.text()).toBe('gen: 100000 rows\ngen: 200000 rows\n');
  });

  it('draws a bar on a terminal instead of lines', () => {
    const out = capture(true);
    const progress = createProgress({ label: 'restore', total: 10, stream: out.stream });
    progress.increment(10);
    progress.stop();
    expect(out.text()).toContain('restore [');
    expect(out.text()).toContain('100%');
    expect(out.text()).not.toContain('restore: ');
  });
});
