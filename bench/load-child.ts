/**
 * The load generator process: reads a LoadSpec (bench/load.ts) as one line of JSON on stdin, runs
 * the warm-up and the measured autocannon run, and prints `warmed-up` between them and a
 * LoadResult as JSON at the end, on stdout. A gated spec first prints `ready` and waits for a
 * `go` line on stdin, so loads in several children start together.
 */
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { bookingBody } from './booking.js';
import { go, ready, warmedUp, type LoadResult, type LoadSpec } from './load.js';

const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function nextLine(): Promise<string> {
  const line = await stdin.next();
  if (line.done === true) throw new Error('stdin ended early');
  return line.value;
}

const spec = JSON.parse(await nextLine()) as LoadSpec;
if (spec.gated) {
  process.stdout.write(`${ready}\n`);
  const line = await nextLine();
  if (line !== go) throw new Error(`expected "${go}" on stdin, got "${line}"`);
}
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
