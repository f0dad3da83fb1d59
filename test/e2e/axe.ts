import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/**
 * axe-core in the page: the bar is no serious or critical violation on any screen. The
 * script is read from node_modules (no server of ours serves it, nothing is fetched).
 */
const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  /** CSS selectors of the first few offending elements. */
  targets: string[];
}

interface AxeResult {
  id: string;
  impact?: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

interface AxeWindow {
  axe?: {
    run: (
      context: unknown,
      options: { resultTypes: string[] },
    ) => Promise<{ violations: AxeResult[] }>;
  };
  document: unknown;
}

/** Every violation axe finds on the page as it is now, of any impact. */
export async function axeViolations(page: Page): Promise<Violation[]> {
  const loaded = await page.evaluate(() => 'axe' in globalThis);
  // Evaluated by the browser's debugging protocol, which the page's CSP does not govern: the
  // service's `script-src 'self'` refuses an inline script tag, and the CSP stays in force for
  // everything the console itself does (bypassCSP would hide a console that breaks it).
  if (!loaded) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const win = globalThis as unknown as AxeWindow;
    if (win.axe === undefined) throw new Error('axe-core did not load in the page');
    const result = await win.axe.run(win.document, { resultTypes: ['violations'] });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? null,
      help: violation.help,
      targets: violation.nodes.slice(0, 5).map((node) => node.target.map(String).join(' ')),
    }));
  });
}

export function isSerious(violation: Violation): boolean {
  return violation.impact === 'serious' || violation.impact === 'critical';
}

/** The serious and critical violations: what a test asserts there are none of. */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  return (await axeViolations(page)).filter(isSerious);
}
