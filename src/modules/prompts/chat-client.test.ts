import { describe, expect, it } from 'vitest';
import { backoffMs, maxGenerationMs, parseRetryAfter } from './chat-client.js';

describe('backoffMs', () => {
  it('doubles per attempt with jitter in the upper half, capped at 10 s', () => {
    expect(backoffMs(1, 500, () => 0)).toBe(250);
    expect(backoffMs(1, 500, () => 1)).toBe(500);
    expect(backoffMs(3, 500, () => 1)).toBe(2_000);
    expect(backoffMs(20, 500, () => 1)).toBe(10_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    [null, undefined],
    ['', undefined],
    ['soon', undefined],
    ['2', 2_000],
    ['Wed, 01 Jan 2025 00:00:05 GMT', 5_000],
    ['Tue, 31 Dec 2024 23:00:00 GMT', 0],
  ])('%s -> %s', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});

describe('maxGenerationMs', () => {
  it('bounds every attempt plus the longest waits between them', () => {
    expect(maxGenerationMs({ baseUrl: 'x', model: 'm', timeoutMs: 1_000, maxAttempts: 3 })).toBe(
      63_000,
    );
  });
});
