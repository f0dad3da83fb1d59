/**
 * One route's load: a warm-up and then the measured autocannon run, in a child process of its own
 * (bench/load-child.ts), so the load generator competes with neither the server nor this
 * runner's RSS sampling for an event loop. One process for both runs halves the start-up costs.
 * runLoadsTogether starts several such loads at the same instant (bench/mixed.ts).
 */
import type { BookingPlan } from './booking.js';
import { hasExited, spawnTs } from './processes.js';

export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** When set, every request books its own slot (the body is generated per request). */
  booking?: BookingPlan;
  /** The child says `ready` once loaded and waits for a `go` line on stdin before the warm-up. */
  gated?: true;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Connection errors, timeouts included. */
  errors: number;
  non2xx: number;
  /** Count per status code outside 2xx, e.g. {"409": 3}. */
  otherStatuses: Record<string, number>;
  /** Request bodies generated, warm-up included (booking: slots used, for the next run to skip). */
  generated: number;
}

/** Lines the child prints before its result: loaded (gated only), and warm-up over. */
export const ready = 'ready';
export const warmedUp = 'warmed-up';
/** The line a gated child waits for on stdin. */
export const go = 'go';

interface StartedLoad {
  /** Resolves when a gated child is loaded and waiting; rejects if it exits first. */
  ready: Promise<void>;
  go: () => void;
  stop: () => void;
  result: Promise<LoadResult>;
}

function startLoad(spec: LoadSpec, onMeasuring: () => void): StartedLoad {
  const child = spawnTs('bench/load-child.ts', [], { stdio: ['pipe', 'pipe', 'inherit'] });
  let signalReady = () => {};
  let failReady: (error: Error) => void = () => {};
  const isReady = new Promise<void>((resolve, reject) => {
    signalReady = resolve;
    failReady = reject;
  });
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    // Control lines come first; the result (JSON without a newline) stays in `stdout`.
    for (let newline = stdout.indexOf('\n'); newline >= 0; newline = stdout.indexOf('\n')) {
      const line = stdout.slice(0, newline);
      if (line === ready) signalReady();
      else if (line === warmedUp) onMeasuring();
      else break;
      stdout = stdout.slice(newline + 1);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const result = exited.then((code) => {
    failReady(new Error(`load generator for ${spec.url} exited before it was ready`));
    if (code !== 0) throw new Error(`load generator for ${spec.url} exited with ${String(code)}`);
    return JSON.parse(stdout) as LoadResult;
  });
  // The spec goes through stdin, on one line: booking plans carry hundreds of ids.
  child.stdin?.write(`${JSON.stringify(spec)}\n`);
  if (spec.gated) {
    return {
      ready: isReady,
      go: () => child.stdin?.end(`${go}\n`),
      stop: () => {
        if (!hasExited(child)) child.kill('SIGTERM');
      },
      result,
    };
  }
  child.stdin?.end();
  signalReady();
  return { ready: isReady, go: () => {}, stop: () => {}, result };
}

/** Runs the load; `onMeasuring` is called when the warm-up is over and the measured run starts. */
export async function runLoad(spec: LoadSpec, onMeasuring: () => void): Promise<LoadResult> {
  return startLoad(spec, onMeasuring).result;
}

/**
 * Runs several loads in parallel, each in its own child, started together: every child loads
 * first, and all get the signal to start once the last is ready, so warm-ups and measured runs
 * of equal length overlap (up to the few milliseconds the signals take). `onMeasuring` is called
 * once, when the first load's warm-up is over.
 */
export async function runLoadsTogether(
  specs: LoadSpec[],
  onMeasuring: () => void,
): Promise<LoadResult[]> {
  let measuring = false;
  const loads = specs.map((spec) =>
    startLoad({ ...spec, gated: true }, () => {
      if (measuring) return;
      measuring = true;
      onMeasuring();
    }),
  );
  try {
    await Promise.all(loads.map((load) => load.ready));
  } catch (error) {
    for (const load of loads) load.stop();
    await Promise.allSettled(loads.map((load) => load.result));
    throw error;
  }
  for (const load of loads) load.go();
  return Promise.all(loads.map((load) => load.result));
}
