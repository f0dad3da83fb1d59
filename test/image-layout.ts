import { spawn } from 'node:child_process';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { root, runtimeStage } from './packaging-support.js';

/**
 * The image's files without Docker: `npm run build`, then a directory filled by the runtime
 * stage's own COPY instructions (read from the Dockerfile), so a process started there sees what
 * a container would. Only node_modules differs: it is this checkout's (dev dependencies too),
 * linked, since installing the production set takes a registry and minutes.
 */
let built: Promise<void> | undefined;

/** Compiles src/ into dist/ (incremental), once per test process. */
export function buildOnce(): Promise<void> {
  built ??= new Promise<void>((resolveBuild, reject) => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolveBuild();
      else
        reject(
          new Error(`the build (tsc -p tsconfig.build.json) failed (${String(code)}):\n${output}`),
        );
    });
  });
  return built;
}

// The build stage copies the context to its WORKDIR; its outputs are read from there.
const BUILD_STAGE_DIR = '/app/';

/** Where a COPY source is on this machine: the context (this checkout) or the build stage. */
function sourcePath(source: string, fromStage: string | undefined): string {
  if (fromStage === undefined) return join(root, source);
  if (fromStage !== 'build' || !source.startsWith(BUILD_STAGE_DIR)) {
    throw new Error(`COPY --from=${fromStage} ${source}: not a path of the build stage`);
  }
  return join(root, source.slice(BUILD_STAGE_DIR.length));
}

/**
 * Lays the runtime stage's files out under `dir` (its WORKDIR) and returns `dir`. A COPY this
 * does not understand is an error, so a changed Dockerfile cannot be silently half-followed.
 */
export async function assembleImage(dir: string): Promise<string> {
  await buildOnce();
  for (const { keyword, args } of runtimeStage().instructions) {
    if (keyword === 'ADD') throw new Error('ADD in the runtime stage: use COPY');
    if (keyword !== 'COPY') continue;
    const parts = args.split(/\s+/);
    const flags = parts.filter((part) => part.startsWith('--'));
    const paths = parts.filter((part) => !part.startsWith('--'));
    const fromStage = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
    if (flags.some((flag) => !flag.startsWith('--from=') && !flag.startsWith('--chown='))) {
      throw new Error(`COPY ${args}: unknown flag`);
    }
    const target = paths.pop();
    if (target === undefined || paths.length === 0) throw new Error(`COPY ${args}: no source`);
    const destination = join(dir, normalize(target));
    for (const source of paths) {
      const into = target.endsWith('/')
        ? join(destination, source.split('/').at(-1) ?? '')
        : destination;
      await mkdir(dirname(into), { recursive: true });
      await cp(sourcePath(source, fromStage), into, { recursive: true });
    }
  }
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}
