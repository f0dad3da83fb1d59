import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The API contract without a server or a database. From dist/, the document the build wrote
 * (scripts/build.js runs `openapi --live --out dist/openapi.json`) is printed as it is: the app
 * is not even imported, so the command takes a fraction of a second. Otherwise (under tsx, or a
 * dist/ compiled after the document) the app is built from a fixed configuration on a database
 * that is never contacted, so the document is the same whatever the environment says.
 */
const here = dirname(fileURLToPath(import.meta.url));
const prebuilt = join(here, '..', 'openapi.json');

function prebuiltDocument(): string | undefined {
  if (!here.endsWith(join('dist', 'cli')) || !existsSync(prebuilt)) return undefined;
  const written = statSync(prebuilt).mtimeMs;
  const dist = join(here, '..');
  for (const entry of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
    if (entry.endsWith('.js') && statSync(join(dist, entry)).mtimeMs > written) return undefined;
  }
  return readFileSync(prebuilt, 'utf8');
}

export async function liveDocument(): Promise<string> {
  const [{ loadConfig }, { buildApp }, { openDatabase }] = await Promise.all([
    import('../config.js'),
    import('../app.js'),
    import('../db/client.js'),
  ]);
  const config = loadConfig({
    NODE_ENV: 'development',
    LOG_LEVEL: 'silent',
    DATA_DIR: 'memory://',
    MIGRATE_ON_START: 'false',
    RATE_LIMIT_ENABLED: 'false',
    SEED_DEMO: 'false',
    JWT_SECRET: randomBytes(48).toString('base64url'),
  });
  // A pool is lazy: nothing connects to this address unless a query runs, and none does.
  const database = openDatabase({ ...config, databaseUrl: 'postgres://openapi@127.0.0.1:9/none' });
  const app = await buildApp(config, { logger: false, database });
  try {
    return JSON.stringify(app.swagger(), null, 2) + '\n';
  } finally {
    await app.close();
  }
}

export async function openApiCommand(out: string | undefined, live: boolean): Promise<number> {
  const document = (live ? undefined : prebuiltDocument()) ?? (await liveDocument());
  if (out !== undefined) {
    await writeFile(out, document);
    return 0;
  }
  await new Promise<void>((resolve) => {
    process.stdout.write(document, () => {
      resolve();
    });
  });
  return 0;
}
