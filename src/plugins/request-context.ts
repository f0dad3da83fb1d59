import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { newId } from '../lib/ids.js';

const acceptableRequestId = /^[A-Za-z0-9._:-]{8,128}$/;

/** Keeps a well-formed caller-supplied X-Request-Id (for tracing through a proxy), else mints one. */
export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && acceptableRequestId.test(header) ? header : newId();
}

/** Request id on every response; one structured log line per request, without bodies. */
export const requestContextPlugin = fp(async (app: FastifyInstance) => {
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 10) / 10,
        user_id: request.principal?.userId,
      },
      'request completed',
    );
  });
});
