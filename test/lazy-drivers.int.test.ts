import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * Optional drivers stay unloaded until configured or first used: a fresh process builds the whole
 * app (no S3/Azure storage, no Redis, no SMTP) and lists which of them Node has loaded. Together
 * they cost about 40 MB of RSS at rest. (unpdf is an ES module, invisible to this check; pdf.js
 * behind it was already loaded on demand.)
 */
const optional = [
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  '@azure/storage-blob',
  'sharp',
  'pdfkit',
  'nodemailer',
  'ioredis',
];

const script = `
  import { createRequire } from 'node:module';
  const { buildApp } = await import(${JSON.stringify(pathToFileURL(resolve('src/app.ts')).href)});
  const { loadConfig } = await import(${JSON.stringify(pathToFileURL(resolve('src/config.ts')).href)});
  const app = await buildApp(loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: 'memory://',
    JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
  }), { logger: false });
  const health = await app.inject('/health');
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  const names = ${JSON.stringify(optional)};
  console.log(JSON.stringify({
    status: health.statusCode,
    loaded: names.filter((name) => loaded.some((path) => path.includes('/node_modules/' + name + '/'))),
  }));
  await app.close();
`;

describe('optional drivers', () => {
  // A fresh process compiles PGlite and migrates a new database: allow for a busy machine.
  it(
    'are not loaded by building and serving the app without them',
    { timeout: 90_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'medcore-lazy-'));
      const file = join(dir, 'probe.mts');
      writeFileSync(file, script);
      let stdout: string;
      try {
        ({ stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
          cwd: process.cwd(),
          timeout: 60_000,
        }));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
        status: number;
        loaded: string[];
      };
      expect(result.status).toBe(200);
      expect(result.loaded).toEqual([]);
    },
  );
});
