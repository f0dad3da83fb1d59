/**
 * Cost of authentication per request: GET /health (no auth, no database) is the baseline;
 * GET /api/v1/users/me adds JWT verification, the live session lookup and a user read.
 * Load comes from autocannon in this process; the server is a separate process.
 *
 *   npm run build && npx tsx bench/auth-throughput.ts [seconds]
 */
import autocannon from 'autocannon';
import { postJson, startServer } from './server.js';

const seconds = Number(process.argv[2] ?? 10);
const server = await startServer(18_102);

async function run(path: string, headers: Record<string, string> = {}) {
  const result = await autocannon({
    url: `${server.url}${path}`,
    connections: 20,
    duration: seconds,
    headers,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
  };
}

try {
  const username = `bench${Date.now()}`;
  await postJson(`${server.url}/api/v1/auth/register`, {
    email: `${username}@example.test`,
    username,
    password: 'a sturdy passphrase 42',
  });
  const login = await postJson(`${server.url}/api/v1/auth/login`, {
    username,
    password: 'a sturdy passphrase 42',
  });
  const { access_token } = (await login.json()) as { access_token: string };
  const baseline = await run('/health');
  const me = await run('/api/v1/users/me', { authorization: `Bearer ${access_token}` });
  console.log(
    `GET /health          ${baseline.rps.toFixed(0)} req/s  p50 ${baseline.p50} ms  p99 ${baseline.p99} ms  non-2xx ${baseline.non2xx}`,
  );
  console.log(
    `GET /api/v1/users/me ${me.rps.toFixed(0)} req/s  p50 ${me.p50} ms  p99 ${me.p99} ms  non-2xx ${me.non2xx}`,
  );
  console.log(`ratio users/me : health = ${(me.rps / baseline.rps).toFixed(3)}`);
} finally {
  await server.stop();
}
