import { tmpdir } from 'node:os';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seriousViolations } from './axe.js';
import { launchBrowser, newSession, type Session } from './browser.js';
import { describeE2e } from './context.js';
import { checkScreen, fits, horizontalOverflow, screenshot, TABLET } from './screens.js';

/**
 * The harness itself: the browser is the throwaway, offline one it should be, and each check the
 * scenarios rely on (axe, the 768 px overflow) fails on a page that breaks it, so a green
 * scenario means something. Then the service's own pages as they are served.
 */
let browser: Browser;
let session: Session;

describeE2e('the browser harness', () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    session = await newSession(browser);
  });
  afterAll(async () => {
    await session.close();
    await browser.close();
  });

  it('runs Chromium on a fresh temporary profile', async () => {
    const { page } = session;
    await page.goto('chrome://version');
    const profile = (await page.locator('#profile_path').textContent()) ?? '';
    expect(profile.startsWith(tmpdir()), profile).toBe(true);
    expect(profile).toContain('playwright_chromiumdev_profile-');
  });

  it('reaches nothing outside this machine: such a request is aborted and recorded', async () => {
    const { page } = session;
    // TEST-NET-3: a documentation address, never a real host.
    const outside = 'http://203.0.113.9/pixel.png';
    await page.goto('about:blank');
    await page.setContent(`<img src="${outside}" alt="">`);
    await page.waitForLoadState('load');
    expect(session.outsideRequests).toEqual([outside]);
    session.outsideRequests.length = 0;
  });

  it('axe reports serious and critical violations, and none on a clean page', async () => {
    const { page } = session;
    await page.setContent(
      '<html lang="en"><head><title>t</title></head><body><main>' +
        '<h1>Broken</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">' +
        '<button></button></main></body></html>',
    );
    const broken = await seriousViolations(page);
    expect(broken.map((violation) => violation.id).sort()).toEqual(['button-name', 'image-alt']);

    await page.setContent(
      '<html lang="en"><head><title>t</title></head><body><main><h1>Clean</h1>' +
        '<button>Save</button></main></body></html>',
    );
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('the 768 px check fails a page that scrolls sideways, and one that hides it', async () => {
    const { page } = session;
    await page.setViewportSize(TABLET);
    const wide = '<div style="width: 1000px">wide</div>';
    await page.setContent(`<html lang="en"><body>${wide}</body></html>`);
    const overflowing = await horizontalOverflow(page);
    expect(overflowing.scrollWidth).toBeGreaterThan(overflowing.clientWidth);
    expect(fits(overflowing)).toBe(false);

    await page.setContent(`<html lang="en"><body style="overflow-x: hidden">${wide}</body></html>`);
    const hidden = await horizontalOverflow(page);
    expect(hidden.hiddenOn).toEqual(['body']);
    expect(fits(hidden)).toBe(false);

    await page.setContent('<html lang="en"><body><p>narrow</p></body></html>');
    expect(fits(await horizontalOverflow(page))).toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('the page at / loads under the service CSP, passes axe and fits 768 px', async () => {
    const { page } = session;
    const answer = await page.goto('/');
    expect(answer?.status()).toBe(200);
    // The service's CSP (script-src 'self') holds: the check runs under it, not around it.
    expect(answer?.headers()['content-security-policy']).toContain("script-src 'self'");
    const report = await checkScreen(page, 'home');
    expect(report.serious).toEqual([]);
    expect(fits(report.tablet), JSON.stringify(report.tablet)).toBe(true);
    expect(session.outsideRequests).toEqual([]);
    expect(session.pageErrors).toEqual([]);
  });

  it('the API documentation (/docs) renders from the service alone', async () => {
    const { page } = session;
    await page.goto('/docs');
    await page
      .getByRole('heading', { name: /MedCore/ })
      .first()
      .waitFor();
    await screenshot(page, 'api-docs');
    expect(session.outsideRequests).toEqual([]);
  });
});
