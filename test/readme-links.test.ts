import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Relative link targets of a Markdown file: `[text](target)`, without anchors or URLs. */
function relativeLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '');
  return targets
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0] ?? '');
}

describe('README.md', () => {
  it('links only to files inside the repository that exist', () => {
    const links = relativeLinks(readFileSync(resolve(root, 'README.md'), 'utf8'));
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) {
      const target = resolve(root, link);
      expect(
        target.startsWith(root + '/') || target === root,
        `${link} leaves the repository`,
      ).toBe(true);
      expect(existsSync(target), `${link} does not exist`).toBe(true);
    }
  });
});
