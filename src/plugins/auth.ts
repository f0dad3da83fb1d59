import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, forbidden } from '../lib/errors.js';
import { can, type Access, type Principal } from '../lib/permissions.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: 'public' or a permission from the permission table. */
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /**
     * Authenticates the request's token again (session revoked, user deactivated, role no
     * longer allowed?): long-lived responses such as event streams ask it periodically.
     */
    stillAuthenticated: (() => Promise<boolean>) | null;
  }
}

/** The authenticated caller; only valid on routes whose access is not 'public'. */
export function actorOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthorized', 'Authentication required');
  return request.principal;
}

export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]{1,4096})$/i.exec(header);
  return match?.[1];
}

/**
 * What the guard asks of the modules, passed by buildApp so that plugins import no module: who an
 * access token stands for (auth's `authenticate`), and where a refusal is recorded (audit's
 * `recordAccessDenied`).
 */
export interface AuthPluginOptions {
  authenticate: (accessToken: string) => Promise<Principal | null>;
  denied: (actor: Principal, route: string, permission: Access) => Promise<void>;
}

/**
 * Deny by default: an /api route without a declared access level fails at start-up. Guarded
 * routes authenticate in onRequest (before the body is even parsed) and then check the table.
 */
export const authPlugin = fp(async (app: FastifyInstance, opts: AuthPluginOptions) => {
  app.decorateRequest('principal', null);
  app.decorateRequest('stillAuthenticated', null);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/') && route.config?.access === undefined) {
      throw new Error(`Route ${route.method.toString()} ${route.url} declares no access level`);
    }
  });
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return;
    const token = bearerToken(request.headers.authorization);
    const principal = token === undefined ? null : await opts.authenticate(token);
    if (!principal) throw new AppError('unauthorized', 'A valid bearer access token is required');
    request.principal = { ...principal, requestId: request.id, ip: request.ip };
    const presented = token ?? '';
    request.stillAuthenticated = async () => {
      const now = await opts.authenticate(presented);
      return now !== null && now.sessionId === principal.sessionId && can(now.role, access);
    };
    if (!can(principal.role, access)) {
      // Refusals are security events: who tried what, kept in the audit trail.
      await opts.denied(
        request.principal,
        `${request.method} ${request.routeOptions.url ?? ''}`,
        access,
      );
      throw forbidden();
    }
  });
});
