import type { ServerOptions } from 'node:http';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { AppError } from '../lib/errors.js';

/**
 * Slow clients are cut off (SECURITY.md): Node answers 408 and closes a connection whose headers
 * took longer than HEADERS_TIMEOUT_MS, or whose whole request (headers and body) longer than
 * REQUEST_TIMEOUT_MS. Node checks these only every `connectionsCheckingInterval` (30 s by
 * default, which let a 1-byte-per-second client keep a socket for 25 s and 54 s), hence
 * CONNECTIONS_CHECK_INTERVAL_MS. The request timeout ends once the request is received: a long
 * answer, such as an event stream, is not cut by it.
 */
export function httpServerOptions(
  config: Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'connectionsCheckIntervalMs'>,
): ServerOptions {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: config.connectionsCheckIntervalMs,
  };
}

// Liveness and metrics always answer: an overloaded instance is not dead (a liveness 503 would
// get it restarted), and a scraper must see it in trouble. Readiness does get the 503, so a load
// balancer sends elsewhere until the pressure is gone.
const exempt = new Set(['/health', '/metrics']);
const isExempt = (request: FastifyRequest) => exempt.has(request.routeOptions.url ?? '');

/**
 * Overload answers 503 problem+json with Retry-After at once instead of queueing without bound:
 * when the event loop lags more than OVERLOAD_MAX_EVENT_LOOP_DELAY_MS, the heap holds more than
 * OVERLOAD_MAX_HEAP_USED_BYTES (@fastify/under-pressure samples both), or
 * OVERLOAD_MAX_IN_FLIGHT requests are already being served by this instance. 0 turns a bound off.
 */
export const overloadPlugin = fp(async (app: FastifyInstance, opts: { config: Config }) => {
  const { config } = opts;
  const retryAfter = String(config.overloadRetryAfterS);
  const overloaded = (why: string) =>
    new AppError('service_unavailable', `The service is overloaded (${why}); retry later`, {
      headers: { 'retry-after': retryAfter },
    });

  // Start-up (loading code, migrating) blocks the loop; the first samples after it would report
  // that as overload and refuse the first requests (readiness included). They are ignored.
  let warmUntil = Infinity;
  app.addHook('onReady', async () => {
    warmUntil = performance.now() + 3 * OVERLOAD_SAMPLE_INTERVAL_MS;
  });

  if (config.overloadMaxEventLoopDelayMs > 0 || config.overloadMaxHeapUsedBytes > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: config.overloadMaxEventLoopDelayMs,
      maxHeapUsedBytes: config.overloadMaxHeapUsedBytes,
      sampleInterval: OVERLOAD_SAMPLE_INTERVAL_MS,
      // A rejected promise becomes the request's error: problem+json from the error handler.
      pressureHandler: async (request, _reply, type) => {
        if (isExempt(request)) return;
        if (type === 'eventLoopDelay' && performance.now() < warmUntil) return;
        throw overloaded(type === 'heapUsedBytes' ? 'memory' : 'event loop delay');
      },
    });
  }

  const max = config.overloadMaxInFlight;
  if (max === 0) return;
  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    if (isExempt(request)) return;
    if (inFlight >= max) throw overloaded('too many requests in flight');
    inFlight++;
    // 'close' comes for every response, finished or cut off by the client.
    reply.raw.once('close', () => {
      inFlight--;
    });
  });
});

/** How often event-loop delay and heap are sampled (under-pressure's default is 1 s). */
export const OVERLOAD_SAMPLE_INTERVAL_MS = 500;
