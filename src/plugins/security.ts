import cors from '@fastify/cors';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';

// The API serves JSON; the only HTML is the docs UI, whose assets are all same-origin. No
// upgrade-insecure-requests: plain-HTTP deployments on a LAN must still load the docs' assets.
const contentSecurityPolicy = [
  "default-src 'self'",
  "base-uri 'self'",
  "font-src 'self' https: data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
].join(';');

// The staff console's page (plugins/console.ts): its own scripts and styles only, API calls and
// the event stream to this origin, and blob:/data: for what the page makes itself (image and
// PDF previews of documents it downloaded, generated images). No inline script and no other
// host. Inline styles stay allowed, as for the docs page: UI libraries set style attributes and
// inject <style> elements, and a style cannot run code.
const consoleContentSecurityPolicy = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "frame-src 'self' blob:",
  "img-src 'self' data: blob:",
  "manifest-src 'self'",
  "media-src 'self' blob:",
  "object-src 'self' blob:",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
  "worker-src 'self' blob:",
].join(';');

/** What the console's page sends instead of the API's headers (the rest stay as they are). */
export const consoleSecurityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': consoleContentSecurityPolicy,
});

/**
 * The security headers of every response: helmet's defaults with the CSP above and a same-origin
 * resource policy, exactly what @fastify/helmet sent. None of them depends on the request, so
 * they are built once here instead of by helmet's middleware on every request (which took about
 * a quarter of the CPU of a cheap route).
 */
export const securityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': contentSecurityPolicy,
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

function setSecurityHeaders(
  _request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  void reply.headers(securityHeaders);
  done();
}

/** Security headers on every response and CORS only for the origins the operator lists. */
export const securityPlugin = fp(async (app: FastifyInstance, opts: { config: Config }) => {
  // First among the onRequest hooks (as helmet was), so errors and 404s carry them too.
  app.addHook('onRequest', setSecurityHeaders);
  await app.register(cors, {
    origin: opts.config.corsOrigins.length > 0 ? [...opts.config.corsOrigins] : false,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: [
      'Authorization',
      'Content-Type',
      'If-Match',
      'Idempotency-Key',
      'X-Request-Id',
    ],
    // Browser clients may read the rate-limit budget to back off before a 429.
    exposedHeaders: [
      'ETag',
      'X-Request-Id',
      'Retry-After',
      'Location',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ],
    maxAge: 600,
  });
});
