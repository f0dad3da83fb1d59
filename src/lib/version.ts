import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootDir } from '../db/paths.js';

/** The running release: package.json's version, read once (what /health and admin report). */
export const appVersion = (
  JSON.parse(readFileSync(join(rootDir, 'package.json'), 'utf8')) as { version: string }
).version;
