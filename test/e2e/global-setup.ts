import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import type { E2eSetup } from './context.js';
import { buildService, noonTimeZone, startServer } from './server.js';

/**
 * Once per run of the e2e project, before any of its files: find the browser, build the service
 * (once, not per file), start it, and make the first admin with the command line beside it. Every
 * file gets the address and the admin through `inject('e2e')` (context.ts) and makes its own
 * people and data through the API. Without Chromium nothing is built or started and every e2e
 * suite skips, saying why.
 */
export default async function globalSetup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  // Debian's chromium (.ci/run installs it); CHROMIUM_PATH for a machine that has it elsewhere.
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    const reason = `no browser at ${chromium} (apt-get install chromium)`;
    console.warn(`e2e: ${reason}: the browser tests are skipped`);
    project.provide('e2e', { ready: false, reason } satisfies E2eSetup);
    return async () => undefined;
  }

  buildService();
  const timeZone = noonTimeZone();
  const server = await startServer(timeZone);
  const admin = {
    email: `admin-${randomBytes(4).toString('hex')}@e2e.medcore.test`,
    password: `e2e admin ${randomBytes(12).toString('base64url')}`,
  };
  const created = await server.cli([
    'create-admin',
    '--email',
    admin.email,
    '--password',
    admin.password,
    '--full-name',
    'Ada Admin',
  ]);
  if (created.code !== 0) {
    await server.stop();
    throw new Error(`create-admin failed (${String(created.code)}):\n${created.stderr}`);
  }
  project.provide('e2e', {
    ready: true,
    baseUrl: server.baseUrl,
    chromium,
    timeZone,
    admin,
  } satisfies E2eSetup);
  console.log(
    `e2e: MedCore at ${server.baseUrl}, clinic time zone ${timeZone} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );

  return async () => {
    await server.stop();
    // One of the figures issue 15 asks for: how long the browser tests take, setup included.
    console.log(`e2e: suite took ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  };
}
