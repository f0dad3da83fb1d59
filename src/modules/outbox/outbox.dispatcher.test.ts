import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './outbox.dispatcher.js';

describe('retryDelayMs', () => {
  it('doubles from the base with jitter in the upper half, and stops at the cap', () => {
    for (let attempt = 1; attempt <= 6; attempt++) {
      const full = 1_000 * 2 ** (attempt - 1);
      for (let i = 0; i < 50; i++) {
        const delay = retryDelayMs(attempt, 1_000, 300_000);
        expect(delay).toBeGreaterThanOrEqual(full / 2);
        expect(delay).toBeLessThanOrEqual(full);
      }
    }
    expect(retryDelayMs(40, 1_000, 300_000)).toBeLessThanOrEqual(300_000);
    expect(retryDelayMs(40, 1_000, 300_000)).toBeGreaterThanOrEqual(150_000);
  });
});
