import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isDatabaseUnavailable, sqlState } from '../lib/db-errors.js';
import { AppError, type FieldError, type ProblemCode, toProblem } from '../lib/errors.js';
import { requestIdFor } from './request-context.js';
import { fieldErrors, validationDetail } from './validation-messages.js';

const fastifyCodes: Record<string, ProblemCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
};

const statusCodes: Record<number, ProblemCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  code: ProblemCode,
  detail: string,
  options: {
    errors?: FieldError[] | undefined;
    headers?: Record<string, string>;
    extensions?: Record<string, string>;
  } = {},
): FastifyReply {
  const problem = toProblem(code, detail, request.id, options.errors, options.extensions);
  if (problem.status === 401) void reply.header('www-authenticate', 'Bearer');
  return reply
    .status(problem.status)
    .headers(options.headers ?? {})
    .type('application/problem+json')
    .send(JSON.stringify(problem));
}

/** One error handler for the whole app: every failure leaves as RFC 9457 problem+json. */
function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError) {
    // No unaudited access means a failed audit write fails the request; operators must see why.
    if (error.code === 'audit_unavailable') {
      request.log.error({ err: error.cause }, 'audit trail write failed');
    } else if (error.status >= 500 && error.cause !== undefined) {
      // Storage, scanner or integrity failures: the client gets the problem, operators the cause.
      request.log.error({ err: error.cause }, error.message);
    }
    return sendProblem(reply, request, error.code, error.message, {
      errors: error.errors,
      headers: error.headers,
      extensions: error.extensions,
    });
  }
  if (error.validation) {
    const errors = fieldErrors(error.validation, error.validationContext);
    return sendProblem(reply, request, 'validation_failed', validationDetail(errors), { errors });
  }
  const mapped = fastifyCodes[error.code];
  if (mapped !== undefined) return sendProblem(reply, request, mapped, error.message);
  if (isDatabaseUnavailable(error)) {
    request.log.warn({ err: error }, 'database unavailable');
    return sendProblem(reply, request, 'service_unavailable', 'The database is unavailable', {
      headers: { 'retry-after': '5' },
    });
  }
  // Data exceptions (SQLSTATE class 22: out-of-range dates, invalid text) are bad input that
  // slipped past validation: a 400, and logged so the validation can be tightened.
  if (sqlState(error)?.startsWith('22') === true) {
    request.log.warn({ err: error }, 'database refused a value as invalid');
    return sendProblem(reply, request, 'bad_request', 'A value in the request is out of range');
  }
  const status = error.statusCode ?? 500;
  const byStatus = statusCodes[status];
  if (status < 500 && byStatus !== undefined) {
    return sendProblem(reply, request, byStatus, error.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  // 5xx never leaks internals: the request id is enough to find the log line.
  return sendProblem(reply, request, 'internal_error', 'An unexpected error occurred');
}

export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      'not_found',
      `No route for ${request.method} ${request.url.split('?')[0] ?? ''}`,
    ),
  );
});

/**
 * For the router's own failures (malformed percent-encoding, over-long path parameters), which
 * reach raw Node objects before any Fastify hook runs: still a problem+json with a request id
 * and the essential security headers, and never an echo of the offending path.
 */
export function rawProblemHandler(code: ProblemCode, detail: string) {
  return (_path: string, req: IncomingMessage, res: ServerResponse): void => {
    const problem = toProblem(code, detail, requestIdFor(req.headers['x-request-id']));
    res.writeHead(problem.status, {
      'content-type': 'application/problem+json; charset=utf-8',
      'x-request-id': problem.request_id,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
    res.end(JSON.stringify(problem));
  };
}
