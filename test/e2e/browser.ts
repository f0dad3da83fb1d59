import {
  chromium,
  type Browser,
  type BrowserContext,
  type Page,
  type Response,
} from 'playwright-core';
import { setup, type Credentials } from './context.js';

/**
 * Debian's Chromium driven by playwright-core (which never downloads a browser of its own).
 * Nothing may leave the machine: the background services are off, every host name but
 * localhost fails to resolve, and each context aborts (and records) any request the page makes
 * to another host than this machine.
 */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

/**
 * One browser per test file. Playwright gives it a fresh temporary user-data directory of its
 * own (and deletes it on close); `--user-data-dir` cannot be passed to launch() beside that.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!setup.ready) throw new Error(setup.reason);
  return chromium.launch({
    executablePath: setup.chromium,
    headless: true,
    args: chromiumArgs,
    timeout: 60_000,
  });
}

/** A response the page received from the service, body included (event streams excepted). */
export interface SeenResponse {
  url: string;
  status: number;
  contentType: string;
  body: string;
}

/**
 * One signed-in person: a context of their own (own cookie jar and storage), so several people
 * can be signed in at once, as at a front desk and in a consulting room.
 */
export interface Session {
  context: BrowserContext;
  page: Page;
  /** Every response from the service the page received, in order. */
  responses: SeenResponse[];
  /** Requests to any other host than this machine: aborted, and a failure of the test. */
  outsideRequests: string[];
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  /** Resolves when the bodies of the responses seen so far are read. */
  settle: () => Promise<void>;
  close: () => Promise<void>;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isLocal(url: URL): boolean {
  return (
    !['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol) || LOCAL_HOSTS.has(url.hostname)
  );
}

async function record(
  responses: SeenResponse[],
  response: Response,
  origin: string,
): Promise<void> {
  if (!response.url().startsWith(origin)) return;
  const contentType = response.headers()['content-type'] ?? '';
  // An event stream never ends: its body cannot be awaited (the day view's appointments arrive
  // as the same JSON through GET /appointments/{id} and the list).
  const body = contentType.startsWith('text/event-stream')
    ? ''
    : await response.text().catch(() => '');
  responses.push({ url: response.url(), status: response.status(), contentType, body });
}

export interface SessionOptions {
  /** Default 1280x800, the desktop size. */
  viewport?: { width: number; height: number };
}

export async function newSession(browser: Browser, options: SessionOptions = {}): Promise<Session> {
  if (!setup.ready) throw new Error(setup.reason);
  const origin = setup.baseUrl;
  const context = await browser.newContext({
    baseURL: origin,
    // The console follows the browser's language and the clinic's time zone (issue 15, 5).
    locale: 'en-US',
    timezoneId: setup.timeZone,
    viewport: options.viewport ?? { width: 1280, height: 800 },
  });
  const outsideRequests: string[] = [];
  await context.route(
    (url) => !isLocal(url),
    (route) => {
      outsideRequests.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  const page = await context.newPage();
  const responses: SeenResponse[] = [];
  const pending = new Set<Promise<void>>();
  page.on('response', (response) => {
    const done = record(responses, response, origin);
    pending.add(done);
    void done.finally(() => pending.delete(done));
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return {
    context,
    page,
    responses,
    outsideRequests,
    pageErrors,
    settle: async () => {
      await Promise.allSettled(pending);
    },
    close: async () => {
      await Promise.allSettled(pending);
      await context.close();
    },
  };
}

/** The sign-in form of issue 15's conventions: a labelled e-mail field, a password, "Sign in". */
export async function signIn(page: Page, who: Credentials): Promise<void> {
  await page.goto('/');
  await page.getByLabel(/e-?mail|user\s*name/i).fill(who.email);
  await page.getByLabel(/^password$/i).fill(who.password);
  await page.getByRole('button', { name: /^(sign|log) in$/i }).click();
  // Signed in when the form is gone.
  await page.getByRole('button', { name: /^(sign|log) in$/i }).waitFor({ state: 'detached' });
}
