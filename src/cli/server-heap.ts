import { setFlagsFromString } from 'node:v8';

/**
 * V8 lets the old generation grow between full collections by a factor it picks from how fast
 * the program allocates against how fast it collects: up to 4 times the live size. A server under
 * load allocates fast (rows, JSON, responses), so with ~50 MB live the heap reached 165 MB of
 * mostly garbage before the next full collection, the bulk of the server's peak RSS. A fixed 50 %
 * keeps it near 1.5 times the live size; the collections this adds run concurrently with
 * requests (measured with 100,000 patients and 50 connections: peak RSS 360 MB down to 270 MB,
 * req/s of the list and search routes within the run-to-run noise of a shared 2-core machine).
 * The flag is read at every collection, so setting it at start-up is enough; it is the
 * process's, the embedded database's thread included.
 */
export const serverHeapFlags: readonly string[] = ['--heap-growing-percent=50'];

/** Applies serverHeapFlags; `serve` calls it before it loads the app. */
export function tuneServerHeap(set: (flag: string) => void = setFlagsFromString): void {
  for (const flag of serverHeapFlags) set(flag);
}
