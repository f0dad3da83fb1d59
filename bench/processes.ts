/**
 * Every child process a benchmark starts is registered here, so none outlives the benchmark: they
 * get SIGTERM when this process exits for any reason (an error, Ctrl-C, a normal end), and the
 * registered clean-ups (dropping a scratch database, stopping servers) run on Ctrl-C as well.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: children run from here so `--import tsx` and `dist/` resolve. */
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Whether the child has ended (so waiting for its 'exit' event would wait forever). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Spawns a TypeScript file of bench/ under tsx, as a tracked child. */
export function spawnTs(file: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  return track(
    spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: repoRoot, ...options }),
  );
}

/** Runs `fn` at the end, also on Ctrl-C; last registered runs first. */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** Runs the registered clean-ups once each (errors are reported, not thrown), then kills children. */
export async function cleanup(): Promise<void> {
  for (let fn = cleanups.pop(); fn !== undefined; fn = cleanups.pop()) {
    try {
      await fn();
    } catch (error) {
      console.error('cleanup failed:', error);
    }
  }
  killChildren();
}

function killChildren(): void {
  for (const child of children) if (!hasExited(child)) child.kill('SIGTERM');
}

// 'exit' handlers must be synchronous: a signal is all that can still be sent.
process.once('exit', killChildren);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // Ctrl-C often brings a second signal (npm and tsx relay it): clean up once, undisturbed.
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping the benchmark`);
    // Bounded: a clean-up that hangs must not keep the benchmark alive.
    setTimeout(() => process.exit(130), 15_000).unref();
    void cleanup().finally(() => process.exit(130));
  });
}
