/**
 * The build: `tsc` into dist/, the OpenAPI document (dist/openapi.json), then a stamp; then the
 * staff console (`vite build` of console/ into dist/console, which the service serves at `/`).
 * Options:
 *   --if-stale  compile only when something under src/ (or a tsconfig, or package.json) is newer
 *               than the stamp (`npm start`'s prestart): a few milliseconds when nothing
 *               changed, where `tsc` takes 5 s of CPU even when incremental and up to date; the
 *               console likewise, only when something under console/ or client/ (or the
 *               lockfile) is newer than its own stamp or dist/console/index.html is missing;
 *   --template  then make the embedded database's template if this install has none
 *               (src/db/embedded/template.ts; `prepare` and `prestart`).
 */
import process from 'node:process';
import console from 'node:console';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.build-stamp');

function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const parent = entry.parentPath ?? entry.path;
    if (parent.split(sep).includes('node_modules')) continue;
    newest = Math.max(newest, statSync(join(parent, entry.name)).mtimeMs);
  }
  return newest;
}

function sourcesTime() {
  const files = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
  const times = files.map((file) => join(root, file)).filter(existsSync);
  return Math.max(newestUnder(join(root, 'src')), ...times.map((file) => statSync(file).mtimeMs));
}

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const options = new Set(process.argv.slice(2));
const consoleStamp = join(root, 'dist', '.console-stamp');
const viteConfig = join(root, 'console', 'vite.config.ts');

function consoleSourcesTime() {
  const dirs = ['console', 'client'].map((dir) => join(root, dir)).filter(existsSync);
  const lock = join(root, 'package-lock.json');
  return Math.max(...dirs.map(newestUnder), existsSync(lock) ? statSync(lock).mtimeMs : 0);
}

/** `vite build` of the staff console into dist/console (console/vite.config.ts says where). */
function buildConsole() {
  if (!existsSync(viteConfig)) {
    console.error('medcore: no console/vite.config.ts yet: the staff console is not built');
    return;
  }
  const upToDate =
    options.has('--if-stale') &&
    existsSync(consoleStamp) &&
    existsSync(join(root, 'dist', 'console', 'index.html')) &&
    statSync(consoleStamp).mtimeMs >= consoleSourcesTime();
  if (upToDate) return;
  const started = Date.now();
  // Always the production bundle: run from a test (the e2e global setup, under vitest's
  // NODE_ENV=test) vite would otherwise bundle React's development build, half again as large.
  run(
    process.execPath,
    [
      join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      viteConfig,
      '--logLevel',
      'warn',
    ],
    { ...process.env, NODE_ENV: 'production' },
  );
  writeFileSync(consoleStamp, `${new Date().toISOString()}\n`);
  if (options.has('--if-stale')) {
    console.error(`medcore: console built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

const upToDate =
  options.has('--if-stale') && existsSync(stamp) && statSync(stamp).mtimeMs >= sourcesTime();
if (!upToDate) {
  const started = Date.now();
  run(process.execPath, [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    'tsconfig.build.json',
  ]);
  // The OpenAPI document, so `medcore openapi` need not load the app (src/cli/openapi.ts).
  run(process.execPath, [
    join(root, 'dist', 'cli.js'),
    'openapi',
    '--live',
    '--out',
    join(root, 'dist', 'openapi.json'),
  ]);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  if (options.has('--if-stale')) {
    console.error(`medcore: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
buildConsole();
if (!options.has('--template')) process.exit(0);

const template = pathToFileURL(join(root, 'dist', 'db', 'embedded', 'template.js'));
const { templateFile, buildTemplate } = await import(template.href);
if (templateFile() === undefined) {
  const started = Date.now();
  console.error('medcore: preparing the embedded database template (once per install)...');
  await buildTemplate();
  console.error(`medcore: template ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
