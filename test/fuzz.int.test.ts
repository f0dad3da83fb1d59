import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  t,
  operations,
  sharedAdmin,
  stillSignedIn,
  actorFor,
  makeFixtures,
  send,
  checkResponse,
  upkeep,
  describeInput,
} from './fuzz-app.js';
import { inputArb, nulFailures } from './fuzz-attacks.js';

/**
 * Hostile-input fuzzing driven by the live OpenAPI document (SECURITY.md "Input and limits"):
 * for every documented operation, fast-check derives arbitraries from the operation's own
 * schemas (path, query, headers, body) and sends at least 300 inputs, each a valid-ish request
 * with one hostile spot. Nothing may answer >= 500, every 4xx must be RFC 9457 problem+json,
 * nothing may take 2 s or more; and NUL in any string field must be a 400 naming that field.
 *
 * Runs are seeded (FUZZ_SEED, default below) so a failure replays exactly; FUZZ_RUNS raises the
 * number of inputs per route. Guarded routes are called as an admin (as a doctor where the
 * permission table closes a route to admins), so inputs reach validation and the handlers.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_1234) | 0;
const RUNS = Math.max(300, Number(process.env.FUZZ_RUNS ?? 300) || 300);
// Past this, fast-check stops (shrinking included) and reports what it has.
const ROUTE_BUDGET_MS = 60_000;

/** FNV-1a, so each route gets its own seed that does not depend on the order of routes. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// --- the tests ------------------------------------------------------------------------------------

const report: string[] = [];
afterAll(() => {
  if (process.env.FUZZ_REPORT) console.log(`fuzz seed ${SEED}\n${report.join('\n')}`);
});

describe(`fuzzing every documented operation with fast-check (seed ${SEED})`, () => {
  it('covers the whole API', () => {
    expect(operations.length).toBeGreaterThanOrEqual(15);
    expect(operations.some((o) => o.guarded)).toBe(true);
  });

  for (const op of operations) {
    const name = `${op.method} ${op.path}`;
    it(`${name}: no 5xx, 4xx are problem+json, none slower than 2 s, NUL refused`, async () => {
      const started = performance.now();
      const actor = await actorFor(op);
      const fx = await makeFixtures(op, actor);
      const statuses = new Map<number, number>();
      let count = 0;
      let lastFailure = '';
      const property = fc.asyncProperty(inputArb(op, fx), async (input) => {
        count++;
        let sent: Awaited<ReturnType<typeof send>>;
        try {
          sent = await send(op, input, actor);
        } catch (error) {
          lastFailure = `inject threw ${String(error)} (attack: ${input.attack})\n  input: ${describeInput(input)}`;
          throw new Error(lastFailure);
        }
        const { res, elapsed, url } = sent;
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        const issues = checkResponse(res, elapsed);
        await upkeep(op, input, res, actor);
        if (issues.length > 0) {
          lastFailure = [
            `${issues.join(', ')} (attack: ${input.attack})`,
            `  ${op.method} ${url.slice(0, 300)}`,
            `  input: ${describeInput(input)}`,
            `  => ${res.body.slice(0, 300)}`,
          ].join('\n');
          throw new Error(lastFailure);
        }
      });
      try {
        await fc.assert(property, {
          numRuns: RUNS,
          seed: (SEED ^ hash(name)) | 0,
          plugins: [fc.interruptAfterTimeLimit(ROUTE_BUDGET_MS, { failOnInterrupt: true })],
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `${lastFailure}\nReplay: FUZZ_SEED=${SEED} npx vitest run test/fuzz.int.test.ts -t '${name}'\n` +
            message
              .split('\n')
              .map((line) => (line.length > 400 ? `${line.slice(0, 400)}…` : line))
              .join('\n')
              .slice(0, 4_000),
        );
      }
      expect(count).toBeGreaterThanOrEqual(RUNS);
      // Where there is anything to refuse (parameters, a body, a token), some input was refused.
      const seen = [...statuses.keys()];
      const refusable = op.guarded || op.body !== undefined || op.params.length > 0;
      if (refusable) expect(seen.some((s) => s >= 400 && s < 500)).toBe(true);
      else expect(seen.every((s) => s >= 200 && s < 300)).toBe(true);

      expect(await nulFailures(op, fx, actor)).toEqual([]);
      const summary = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}x${n}`);
      report.push(
        `${name}: ${count} inputs in ${Math.round(performance.now() - started)} ms (${summary.join(' ')})`,
      );
    }, 120_000);
  }

  it('left no prototype polluted', () => {
    const probe = {} as Record<string, unknown>;
    expect(probe.polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Array.prototype).not.toHaveProperty('polluted');
  });

  it('left the shared admin signed in and the app ready', async () => {
    expect(await stillSignedIn(sharedAdmin)).toBe(true);
    expect((await t.app.inject('/health/ready')).statusCode).toBe(200);
  });
});
