/**
 * The load generator process: reads a LoadSpec (bench/load.ts) as JSON on stdin, runs the warm-up
 * and the measured autocannon run, and prints `warmed-up` between them and a LoadResult as JSON
 * at the end, on stdout.
 */
import { text } from 'node:stream/consumers';
import autocannon from 'autocannon';
import { bookingBody } from './booking.js';
import { warmedUp, type LoadResult, type LoadSpec } from './load.js';

const spec = JSON.parse(await text(process.stdin)) as LoadSpec;
const plan = spec.booking;
// Shared by both runs, so the measured run books after the warm-up's slots.
let generated = 0;

function run(seconds: number) {
  return autocannon({
    url: spec.url,
    method: spec.method,
    headers: spec.headers,
    connections: spec.connections,
    duration: seconds,
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(plan === undefined
      ? {}
      : {
          requests: [
            {
              // Called for every request sent, so each gets the next free slot.
              setupRequest: (request: autocannon.Request) => ({
                ...request,
                body: bookingBody(plan, plan.firstRequest + generated++),
              }),
            },
          ],
        }),
  });
}

if (spec.warmupSeconds > 0) await run(spec.warmupSeconds);
process.stdout.write(`${warmedUp}\n`);
const result = await run(spec.seconds);

const otherStatuses: Record<string, number> = {};
for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) {
  if (!status.startsWith('2')) otherStatuses[status] = stats.count ?? 0;
}
const output: LoadResult = {
  rps: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  errors: result.errors,
  non2xx: result.non2xx,
  otherStatuses,
  generated,
};
process.stdout.write(JSON.stringify(output));
