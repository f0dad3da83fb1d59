import type { FastifyRequest } from 'fastify';
import type { RequestMeta } from '../../context.js';

/** What a use case records about the HTTP request (sessions, audit rows). */
export function requestMetaOf(request: FastifyRequest): RequestMeta {
  return { requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] };
}
