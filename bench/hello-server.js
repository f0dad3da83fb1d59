/**
 * The ceiling: a bare Fastify server with one JSON route and nothing else (no logging, plugins or
 * database), run as its own process by bench/run.ts; MedCore's figures are ratios to it. Plain
 * JavaScript run by plain `node`, so no TypeScript loader adds to its start-up or memory.
 *
 *   node bench/hello-server.js <port>
 */
import process from 'node:process';
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 18_300) });

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void app.close().finally(() => process.exit(0)));
}
