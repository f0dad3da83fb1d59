/**
 * SECURITY.md: login answers an unknown account and a wrong password with the same status, body
 * and (within 10 ms median) time. Measured from a second process against the built server.
 *
 *   npm run build && npx tsx bench/login-timing.ts [rounds]
 */
import { performance } from 'node:perf_hooks';
import { median, postJson, startServer } from './server.js';

const rounds = Number(process.argv[2] ?? 200);
const server = await startServer(18_101);
try {
  const email = `bench-${Date.now()}@example.test`;
  const registered = await postJson(`${server.url}/api/v1/auth/register`, {
    email,
    username: `bench${Date.now()}`,
    password: 'a sturdy passphrase 42',
  });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status}`);

  const timings = { unknown: [] as number[], wrong: [] as number[] };
  const statuses = new Set<number>();
  // Interleaved so drift (GC, CPU frequency) hits both series alike.
  for (let i = 0; i < rounds; i++) {
    for (const kind of ['unknown', 'wrong'] as const) {
      const body =
        kind === 'unknown'
          ? { email: `nobody-${i}@example.test`, password: 'wrong password 1' }
          : { email, password: 'wrong password 1' };
      const started = performance.now();
      const res = await postJson(`${server.url}/api/v1/auth/login`, body);
      await res.text();
      timings[kind].push(performance.now() - started);
      statuses.add(res.status);
    }
  }
  const unknown = median(timings.unknown);
  const wrong = median(timings.wrong);
  console.log(`rounds: ${rounds} of each kind; statuses seen: ${[...statuses].join(', ')}`);
  console.log(`median unknown account: ${unknown.toFixed(2)} ms`);
  console.log(`median wrong password:  ${wrong.toFixed(2)} ms`);
  console.log(
    `difference: ${Math.abs(unknown - wrong).toFixed(2)} ms (limit 10 ms); ratio unknown/wrong: ${(unknown / wrong).toFixed(3)}`,
  );
} finally {
  await server.stop();
}
