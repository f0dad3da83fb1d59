import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import type { Database } from '../db/client.js';
import type { Metrics } from '../infra/metrics.js';
import type { SessionCache } from '../infra/session-cache.js';
import { AppError } from '../lib/errors.js';
import { bearerToken } from './auth.js';

/** Requests the router matched no route for: one label, whatever the URL (no cardinality blow-up). */
export const UNMATCHED_ROUTE = 'unmatched';

// Seconds; finer at the low end, where most API answers are.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface MetricsPluginOptions {
  metrics: Metrics;
  database: Database;
  sessionCache: SessionCache;
}

/**
 * Request metrics for every route (counted in onResponse, so refusals by any hook count too) and
 * the gauges of what buildApp owns: the database pool and the session cache. The route label is
 * the route's template (`/api/v1/patients/:id`), never the raw URL.
 */
export const metricsPlugin = fp(async (app: FastifyInstance, opts: MetricsPluginOptions) => {
  const { metrics, database, sessionCache } = opts;
  const labels = ['method', 'route', 'status_code'] as const;
  const duration = metrics.histogram(
    'http_request_duration_seconds',
    'HTTP request duration by method, route template and status code',
    labels,
    DURATION_BUCKETS,
  );
  const requests = metrics.counter('http_requests_total', 'HTTP requests answered', labels);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    const values = { method: request.method, route, status_code: String(reply.statusCode) };
    duration.observe(values, reply.elapsedTime / 1000);
    requests.inc(values);
  });

  metrics.labelledGauge(
    'medcore_db_pool_connections',
    'Database pool connections by state (in_use, idle)',
    ['state'],
    () => {
      const { total, idle } = database.poolStats();
      return [
        { labels: { state: 'in_use' }, value: total - idle },
        { labels: { state: 'idle' }, value: idle },
      ];
    },
  );
  metrics.gauge(
    'medcore_db_pool_waiting',
    'Requests waiting for a free database connection',
    () => database.poolStats().waiting,
  );
  metrics.counterFrom(
    'medcore_session_cache_lookups_total',
    'Session cache lookups by result (hit: answered from memory, miss: went to the database)',
    ['result'],
    () => [
      { labels: { result: 'hit' }, value: sessionCache.hits },
      { labels: { result: 'miss' }, value: sessionCache.misses },
    ],
  );
});

function sameSecret(given: string, expected: string): boolean {
  // Digests have one length, so the comparison takes the same time whatever was sent.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * `GET /metrics` in the Prometheus text format, outside /api/v1 like the probes. Open when
 * METRICS_TOKEN is unset; otherwise `Authorization: Bearer <METRICS_TOKEN>` or 401. Not rate
 * limited and not refused under load (a scraper must see an instance in trouble).
 */
export async function metricsRoute(
  app: FastifyInstance,
  opts: { metrics: Metrics; token: string | undefined },
) {
  const { metrics, token } = opts;
  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (Bearer METRICS_TOKEN when it is set)',
        response: {
          200: { content: { 'text/plain': { schema: Type.String() } } },
          401: Type.Ref('Problem'),
        },
      },
    },
    async (request, reply) => {
      if (token !== undefined) {
        const given = bearerToken(request.headers.authorization);
        if (given === undefined || !sameSecret(given, token)) {
          throw new AppError('unauthorized', 'The metrics token is missing or wrong', {
            headers: { 'www-authenticate': 'Bearer realm="metrics"' },
          });
        }
      }
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).header('cache-control', 'no-store').send(body);
    },
  );
}
