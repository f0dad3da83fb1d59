/**
 * One route's load: a warm-up and then the measured autocannon run, in a child process of its own
 * (bench/load-child.ts), so the load generator competes with neither the server nor this
 * runner's RSS sampling for an event loop. One process for both runs halves the start-up costs.
 */
import type { BookingPlan } from './booking.js';
import { spawnTs } from './processes.js';

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

/** The child prints this line between the warm-up and the measured run. */
export const warmedUp = 'warmed-up';

/** Runs the load; `onMeasuring` is called when the warm-up is over and the measured run starts. */
export async function runLoad(spec: LoadSpec, onMeasuring: () => void): Promise<LoadResult> {
  const child = spawnTs('bench/load-child.ts', [], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const newline = stdout.indexOf('\n');
    if (newline >= 0 && stdout.slice(0, newline) === warmedUp) {
      stdout = stdout.slice(newline + 1);
      onMeasuring();
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // The spec goes through stdin: booking plans carry hundreds of ids.
  child.stdin?.end(JSON.stringify(spec));
  const code = await exited;
  if (code !== 0) throw new Error(`load generator for ${spec.url} exited with ${String(code)}`);
  return JSON.parse(stdout) as LoadResult;
}
