import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { axeViolations, isSerious, type Violation } from './axe.js';
import { axeReportsDir, screenshotsDir } from './paths.js';

/**
 * Every screen is kept as a picture (artifacts/screenshots/<name>.png, uploaded by CI) and
 * checked the same way: axe at the desktop size, and no horizontal overflow at tablet width.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(screenshotsDir, { recursive: true });
  const path = join(screenshotsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface Overflow {
  scrollWidth: number;
  clientWidth: number;
  /** `html` and/or `body` when either hides or clips horizontal overflow (which is no pass). */
  hiddenOn: string[];
}

interface OverflowWindow {
  document: {
    documentElement: { scrollWidth: number; clientWidth: number };
    body: unknown;
  };
  getComputedStyle: (element: unknown) => { overflowX: string };
}

/** The page's horizontal overflow as it is laid out now. */
export async function horizontalOverflow(page: Page): Promise<Overflow> {
  return page.evaluate(() => {
    const win = globalThis as unknown as OverflowWindow;
    const html = win.document.documentElement;
    const hiddenOn = (
      [
        ['html', html],
        ['body', win.document.body],
      ] as const
    )
      .filter(([, element]) => element !== null)
      .filter(([, element]) => ['hidden', 'clip'].includes(win.getComputedStyle(element).overflowX))
      .map(([name]) => name);
    return { scrollWidth: html.scrollWidth, clientWidth: html.clientWidth, hiddenOn };
  });
}

/** Issue 15: at 768 px nothing scrolls sideways, and hiding the overflow does not count. */
export function fits(overflow: Overflow): boolean {
  return overflow.scrollWidth <= overflow.clientWidth && overflow.hiddenOn.length === 0;
}

export const TABLET = { width: 768, height: 1024 };

/** Two animation frames: a layout that depends on the width (media queries, observers) is done. */
async function nextFrames(page: Page): Promise<void> {
  await page.evaluate(
    () =>
      new Promise<void>((done) => {
        const win = globalThis as unknown as { requestAnimationFrame: (next: () => void) => void };
        win.requestAnimationFrame(() => {
          win.requestAnimationFrame(done);
        });
      }),
  );
}

export interface ScreenReport {
  name: string;
  /** Serious and critical violations at the desktop size: must be none. */
  serious: Violation[];
  /** How many violations of lower impact axe found (reported, not asserted). */
  minor: number;
  /** The layout at 768 px: `fits(tablet)` must hold. */
  tablet: Overflow;
}

/**
 * Screenshots a screen at its current size and at 768 px, runs axe, measures the overflow at
 * 768 px, and leaves the page at its former size. The caller asserts on the report.
 */
export async function checkScreen(page: Page, name: string): Promise<ScreenReport> {
  await screenshot(page, name);
  const violations = await axeViolations(page);
  const before = page.viewportSize();
  await page.setViewportSize(TABLET);
  await nextFrames(page);
  const tablet = await horizontalOverflow(page);
  await screenshot(page, `${name}-768`);
  if (before !== null) await page.setViewportSize(before);
  const report: ScreenReport = {
    name,
    serious: violations.filter(isSerious),
    minor: violations.filter((violation) => !isSerious(violation)).length,
    tablet,
  };
  await mkdir(axeReportsDir, { recursive: true });
  await writeFile(join(axeReportsDir, `${name}.json`), `${JSON.stringify(violations, null, 2)}\n`);
  console.log(
    `e2e screen ${name}: axe ${report.serious.length} serious/critical, ${report.minor} minor; ` +
      `768 px scrollWidth ${tablet.scrollWidth}/${tablet.clientWidth}` +
      (tablet.hiddenOn.length > 0 ? ` (overflow-x hidden on ${tablet.hiddenOn.join(', ')})` : ''),
  );
  return report;
}

/**
 * `checkScreen` and the bar for it, as soft assertions: a scenario goes on past a screen
 * that fails them, and every failing screen is reported.
 */
export async function expectGoodScreen(page: Page, name: string): Promise<ScreenReport> {
  const report = await checkScreen(page, name);
  expect.soft(report.serious, `axe on ${name}`).toEqual([]);
  expect
    .soft(fits(report.tablet), `${name} at 768 px: ${JSON.stringify(report.tablet)}`)
    .toBe(true);
  return report;
}
