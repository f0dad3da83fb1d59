import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { Type } from 'typebox';
import type { Database } from '../../db/client.js';
import type { Lifecycle } from '../../lib/lifecycle.js';
import { appVersion as version } from '../../lib/version.js';

export type { Lifecycle } from '../../lib/lifecycle.js';

// A readiness probe must answer even when a dependency hangs. The database gets a second (a
// busy pool may make `select 1` wait a little); Redis answers in well under a millisecond, and
// SECURITY.md wants a Redis outage named within 500 ms.
const DATABASE_CHECK_MS = 1_000;
const REDIS_CHECK_MS = 300;

/** Resolves to an error message, or null when the check passed within the time limit. */
async function probe(check: () => Promise<unknown>, limitMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      resolve(`no answer within ${limitMs} ms`);
    }, limitMs);
  });
  try {
    return await Promise.race([check().then(() => null), timeout]);
  } catch (error) {
    return error instanceof Error ? error.message : 'failed';
  } finally {
    clearTimeout(timer);
  }
}

const CheckSchema = Type.Object({ status: Type.String(), error: Type.Optional(Type.String()) });
const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  failing: Type.Array(Type.String()),
  checks: Type.Record(Type.String(), CheckSchema),
});

export async function healthRoutes(
  app: FastifyInstance,
  opts: { database: Database; redis: Redis | undefined; lifecycle: Lifecycle },
) {
  const startedAt = Date.now();
  app.get(
    '/health',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Liveness',
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            version: Type.String(),
            uptime_s: Type.Number(),
          }),
        },
      },
    },
    () => ({
      status: 'ok' as const,
      version,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
    }),
  );

  app.get(
    '/health/ready',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Readiness: database (and Redis when configured); 503 names the failing part',
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, { status: string; error?: string }> = {};
      const failing: string[] = [];
      const record = (name: string, error: string | null) => {
        checks[name] = error === null ? { status: 'ok' } : { status: 'failing', error };
        if (error !== null) failing.push(name);
      };
      if (opts.lifecycle.shuttingDown) record('lifecycle', 'shutting down');
      // In parallel, so one hanging dependency does not delay the verdict on the other.
      const { redis } = opts;
      const [database, cache] = await Promise.all([
        probe(() => opts.database.ping(), DATABASE_CHECK_MS),
        redis ? probe(() => redis.ping(), REDIS_CHECK_MS) : undefined,
      ]);
      record('database', database);
      if (cache !== undefined) record('redis', cache);
      const ready = failing.length === 0;
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'unavailable', failing, checks });
    },
  );
}
