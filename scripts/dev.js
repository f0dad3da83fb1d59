/**
 * `npm run dev`: the API from source with reload (`tsx watch src/cli.ts serve`) and, once the
 * staff console exists (console/vite.config.ts), Vite's dev server with hot reload beside it. Open
 * the console's URL printed below: the page's calls to /api, /docs, /openapi.json and /health
 * are proxied to the API (console/vite.config.ts, MEDCORE_API), so the page is same-origin as in
 * production and the console's cookies work (Secure is accepted on http://localhost).
 *   CONSOLE_DEV_PORT  the dev server's port (default 5173); the API keeps HOST and PORT.
 * Ctrl-C stops both; when one of them stops, the other is stopped too.
 */
import process from 'node:process';
import console from 'node:console';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const viteConfig = join(root, 'console', 'vite.config.ts');

// The service reads .env too (the environment wins): the proxy must aim where the API listens.
const envFile = join(root, '.env');
const fileEnv = existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
const setting = (key, fallback) => process.env[key] ?? fileEnv[key] ?? fallback;
const listenHost = setting('HOST', '127.0.0.1');
const apiHost = ['0.0.0.0', '::', ''].includes(listenHost) ? '127.0.0.1' : listenHost;
const api = `http://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${setting('PORT', '8000')}`;
const consolePort = process.env.CONSOLE_DEV_PORT ?? '5173';

const children = [];
let stopping = false;

function stop(code) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}

function start(name, args, env = {}) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`medcore dev: the ${name} stopped (${signal ?? code}); stopping`);
    stop(code ?? 1);
  });
  children.push(child);
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

// --clear-screen=false: a restart must not wipe the console's URL off the terminal.
start('API', [
  join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
  'watch',
  '--clear-screen=false',
  'src/cli.ts',
  'serve',
]);
if (existsSync(viteConfig)) {
  start(
    'console dev server',
    [
      join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
      '--config',
      viteConfig,
      '--port',
      consolePort,
      '--strictPort',
    ],
    { MEDCORE_API: api },
  );
  console.log(
    `medcore dev: open http://localhost:${consolePort}/ for the staff console (reloads on save); ` +
      `the API is on ${api}`,
  );
} else {
  console.log(`medcore dev: no console/vite.config.ts yet, so the API alone, on ${api}`);
}
