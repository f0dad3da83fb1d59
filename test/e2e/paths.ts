import { join, resolve } from 'node:path';

/** Where the e2e tests leave what CI keeps (screenshots, axe reports, the server's log). */
export const artifactsDir = resolve(import.meta.dirname, '..', '..', 'artifacts');
export const screenshotsDir = join(artifactsDir, 'screenshots');
export const axeReportsDir = join(artifactsDir, 'axe');
