import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { AppError } from '../lib/errors.js';
import type { TokenSigner } from '../infra/tokens.js';
import { bearerToken } from './auth.js';
import { ResilientStore } from './rate-limit-store.js';

export interface RateLimitPluginOptions {
  config: Config;
  redis: Redis | undefined;
  tokens: TokenSigner;
}

// Probes and docs are never throttled: a load balancer polling readiness must not get 429.
// Matched on the route that answered, not the raw URL, so no path trick borrows the exemption.
const unlimitedRoutes = new Set(['/health', '/health/ready', '/metrics', '/openapi.json', '/docs']);
const AUTH_ROUTES = '/api/v1/auth/';

function isUnlimited(route: string | undefined): boolean {
  return route !== undefined && (unlimitedRoutes.has(route) || route.startsWith('/docs/'));
}

/** IPv6 clients are counted per /64, the block one subscriber usually holds. */
function clientKey(request: FastifyRequest): string {
  return normalizeIP(request.ip, 64);
}

/**
 * SECURITY.md rate limits. `/api/v1/auth/*` (login, refresh, register, password reset, MFA):
 * RATE_LIMIT_AUTH_PER_MIN per client IP. Everything else except probes and docs (404s included):
 * RATE_LIMIT_PER_MIN per user, or per client IP without a valid token. The client IP honours
 * X-Forwarded-For only when TRUST_PROXY is set (Fastify's `request.ip`).
 *
 * The check runs in onRequest before authentication, so floods of bad tokens and oversized bodies
 * are refused before any database lookup or body parsing. The user is therefore taken from the
 * access token's verified signature (its `sub` is the `principal.userId` authentication yields):
 * unforgeable, and one user's tokens from several sessions share one budget.
 */
export const rateLimitPlugin = fp(async (app: FastifyInstance, opts: RateLimitPluginOptions) => {
  const { config, redis, tokens } = opts;
  const storeOptions = { redis, prefix: config.rateLimitKeyPrefix, log: app.log };
  await app.register(rateLimit, {
    // No per-route hooks from the library: the hook below picks the budget for each request.
    global: false,
    // IETF draft names: RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (+ Retry-After).
    enableDraftSpec: true,
    timeWindow: config.rateLimitWindowMs,
    // The library instantiates the store class itself, once; this one carries the app's Redis.
    store: class extends ResilientStore {
      constructor() {
        super(storeOptions);
      }
    },
    errorResponseBuilder: (_request, context) =>
      new AppError('rate_limited', `Too many requests; retry in ${context.after}`),
  });

  const authLimit = app.rateLimit({
    max: config.rateLimitAuthPerMin,
    keyGenerator: (request) => `auth:ip:${clientKey(request)}`,
  });
  const generalLimit = app.rateLimit({
    max: config.rateLimitPerMin,
    keyGenerator: (request) => {
      const token = bearerToken(request.headers.authorization);
      const claims = token === undefined ? null : tokens.verifyAccess(token);
      return claims === null ? `api:ip:${clientKey(request)}` : `api:user:${claims.sub}`;
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (isUnlimited(route)) return;
    const limit = route?.startsWith(AUTH_ROUTES) === true ? authLimit : generalLimit;
    await limit.call(app, request, reply);
  });
});
