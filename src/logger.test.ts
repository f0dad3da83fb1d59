import { describe, expect, it } from 'vitest';
import { errSerializer } from './logger.js';

describe('errSerializer', () => {
  it('never throws on values that are not Errors (a string detail once turned an upload into a 503)', () => {
    for (const [value, message] of [
      ['a plain string', 'a plain string'],
      [42, '42'],
      [undefined, 'undefined'],
      [null, 'null'],
      [{ message: 'object' }, '[object Object]'],
    ] as const) {
      const out = errSerializer(value as unknown as Error);
      expect(out.type).toBe('Error');
      expect(out.message).toBe(message);
    }
  });

  it('keeps the message and stack of a real Error', () => {
    const out = errSerializer(new TypeError('boom'));
    expect(out.type).toBe('TypeError');
    expect(out.message).toBe('boom');
    expect(out.stack).toContain('boom');
  });
});
