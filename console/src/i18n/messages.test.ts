import { describe, expect, it } from 'vitest';
import { de } from './de';
import { en } from './en';
import { keyPaths } from './messages';

describe('catalogues', () => {
  it('German has exactly the English keys, none empty', () => {
    expect(keyPaths(de).sort()).toEqual(keyPaths(en).sort());
    for (const path of keyPaths(de)) {
      const value = path.split('.').reduce<unknown>((node, key) => (node as never)[key], de);
      expect(value, path).not.toBe('');
    }
  });

  it('keeps the placeholders of each English message', () => {
    const placeholders = (text: string) => [...text.matchAll(/{{(\w+)}}/g)].map((m) => m[1]).sort();
    for (const path of keyPaths(en)) {
      const read = (catalogue: object) =>
        path.split('.').reduce<unknown>((node, key) => (node as never)[key], catalogue) as string;
      expect(placeholders(read(de)), path).toEqual(placeholders(read(en)));
    }
  });
});
