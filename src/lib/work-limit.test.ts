import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { workLimit } from './work-limit.js';

function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('workLimit', () => {
  it('runs at most `concurrency` jobs at once and the rest in turn', async () => {
    const limit = workLimit(2, 10);
    const g = gate();
    let running = 0;
    let most = 0;
    const jobs = Array.from({ length: 6 }, (_, i) =>
      limit(async () => {
        running += 1;
        most = Math.max(most, running);
        await g.opened;
        running -= 1;
        return i;
      }),
    );
    await Promise.resolve();
    expect(limit.active).toBe(2);
    expect(limit.waiting).toBe(4);
    g.open();
    expect(await Promise.all(jobs)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });

  it('refuses with 503 and Retry-After once the queue is full', async () => {
    const limit = workLimit(1, 2);
    const g = gate();
    const accepted = [1, 2, 3].map(() => limit(() => g.opened));
    const refused: unknown = await limit(() => g.opened).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
    g.open();
    await Promise.all(accepted);
    // Room again once the queue drained.
    await expect(limit(() => Promise.resolve('ok'))).resolves.toBe('ok');
  });
});
