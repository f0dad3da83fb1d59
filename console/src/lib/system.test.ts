import { describe, expect, it } from 'vitest';
import { formatBytes, uptimeParts } from './system';

describe('the System tab’s figures', () => {
  it('splits an uptime into days, hours and minutes', () => {
    expect(uptimeParts(0)).toEqual({ days: 0, hours: 0, minutes: 0 });
    expect(uptimeParts(59)).toEqual({ days: 0, hours: 0, minutes: 0 });
    expect(uptimeParts(3 * 86_400 + 4 * 3600 + 5 * 60 + 6)).toEqual({
      days: 3,
      hours: 4,
      minutes: 5,
    });
  });

  it('writes a size in the largest unit that keeps it at least 1', () => {
    expect(formatBytes(512, 'en')).toBe('512 byte');
    expect(formatBytes(1536, 'en')).toBe('1.5 kB');
    expect(formatBytes(12.5 * 1024 * 1024, 'en')).toBe('12.5 MB');
    expect(formatBytes(3 * 1024 ** 3, 'de')).toBe('3\u00a0GB');
  });
});
