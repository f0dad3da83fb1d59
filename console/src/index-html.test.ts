import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const html = readFileSync(new URL('../index.html', import.meta.url), 'utf8');

describe('console/index.html', () => {
  it('links the API documentation and the health check as static HTML outside the app root', () => {
    const outsideRoot = html.replace(/<div id="root">[\s\S]*?<\/div>/, '');
    expect(outsideRoot).toMatch(/<a href="\/docs">API documentation<\/a>/);
    expect(outsideRoot).toMatch(/<a href="\/health">Health check<\/a>/);
    expect(html).toMatch(/<div id="root"><\/div>/);
  });

  it('has no inline script (the CSP allows only script files from the same origin)', () => {
    for (const tag of html.match(/<script[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="/);
  });
});
