import cookie from '@fastify/cookie';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../../context.js';
import { AppError } from '../../../lib/errors.js';
import { problemResponses } from '../../../lib/schema.js';
import { LoginBody } from '../auth.schemas.js';
import { MfaChallengeSchema, MfaVerifyBody } from '../mfa/mfa.schemas.js';
import { requestMetaOf } from '../request-meta.js';
import { CsrfHeaders } from './console.schemas.js';
import {
  consoleLogin,
  consoleLogout,
  consoleRefresh,
  consoleVerifyMfa,
  type ConsoleGrant,
} from './console.service.js';

const tags = ['auth'];

/** HttpOnly: no script of the page can read it; sent only to the routes below. */
export const REFRESH_COOKIE = 'medcore_refresh';
/** Readable by the page, which echoes it in X-CSRF-Token (double submit). */
export const CSRF_COOKIE = 'medcore_csrf';

const cookieRule =
  'The refresh token travels only in the HttpOnly cookie medcore_refresh (Path=/api/v1/auth/console); ' +
  'the answer body never holds one.';
const csrfRule =
  'Needs the medcore_refresh cookie and X-CSRF-Token set to the medcore_csrf cookie: 403 without ' +
  'a matching header (nothing changes), 401 with both cookies cleared when the session is gone.';

/**
 * The staff console's sign-in under /auth/console: the access token in the body (the page keeps
 * it in memory), the refresh token in an HttpOnly, Secure, SameSite=Strict cookie scoped to these
 * routes, and a CSRF token in a cookie the page can read. `Secure` stays on: browsers accept it
 * on http://localhost and 127.0.0.1, and everywhere else the console belongs behind TLS.
 */
export const consoleRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'tokens' | 'mfaKey' | 'csrf'>;
}> = async (app, opts) => {
  const { ctx } = opts;
  // Cookies are parsed for these routes only: nothing else reads one.
  await app.register(cookie);
  const refreshPath = app.prefix;

  function sendGrant(reply: FastifyReply, grant: ConsoleGrant) {
    const common = { secure: true, sameSite: 'strict', maxAge: grant.maxAgeS } as const;
    void reply.setCookie(REFRESH_COOKIE, grant.refreshToken, {
      ...common,
      path: refreshPath,
      httpOnly: true,
    });
    void reply.setCookie(CSRF_COOKIE, grant.csrfToken, { ...common, path: '/', httpOnly: false });
    return reply.header('cache-control', 'no-store').send(grant.session);
  }

  function clearCookies(reply: FastifyReply): void {
    const common = { secure: true, sameSite: 'strict' } as const;
    void reply.clearCookie(REFRESH_COOKIE, { ...common, path: refreshPath, httpOnly: true });
    void reply.clearCookie(CSRF_COOKIE, { ...common, path: '/' });
  }

  /** A dead session leaves no cookie behind: the page then knows to sign in. */
  async function clearingOn401<T>(reply: FastifyReply, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      if (error instanceof AppError && error.status === 401) clearCookies(reply);
      throw error;
    }
  }

  app.post(
    '/login',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Console sign-in: JSON {email|username, password} -> access token and cookies',
        description: `As POST /api/v1/auth/login (lockout, audit, rate limit). ${cookieRule} With MFA on: the same challenge as /auth/login and no cookies; finish at /auth/console/mfa.`,
        body: LoginBody,
        response: {
          200: Type.Union([Type.Ref('ConsoleSession'), MfaChallengeSchema]),
          ...problemResponses(401),
        },
      },
    },
    async (request, reply) => {
      const result = await consoleLogin(ctx, request.body, requestMetaOf(request));
      if ('mfa_required' in result) return reply.header('cache-control', 'no-store').send(result);
      return sendGrant(reply, result);
    },
  );

  app.post(
    '/mfa',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Console sign-in, second step: {mfa_token, code} (TOTP or backup code)',
        description: `As POST /api/v1/auth/mfa/verify, answered like a console sign-in. ${cookieRule}`,
        body: MfaVerifyBody,
        response: { 200: Type.Ref('ConsoleSession'), ...problemResponses(401) },
      },
    },
    async (request, reply) =>
      sendGrant(reply, await consoleVerifyMfa(ctx, request.body, requestMetaOf(request))),
  );

  app.post(
    '/refresh',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: "Rotate the console's refresh cookie for a new access token",
        description: `Rotation as POST /api/v1/auth/refresh (grace replay, reuse revokes the session). ${csrfRule}`,
        headers: CsrfHeaders,
        response: { 200: Type.Ref('ConsoleSession'), ...problemResponses(401, 403) },
      },
    },
    async (request, reply) => {
      const work = consoleRefresh(
        ctx,
        request.cookies[REFRESH_COOKIE],
        request.headers['x-csrf-token'],
        requestMetaOf(request),
      );
      return sendGrant(reply, await clearingOn401(reply, work));
    },
  );

  app.post(
    '/logout',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: "End the console's session and clear its cookies",
        description: csrfRule,
        headers: CsrfHeaders,
        response: { 204: Type.Null(), ...problemResponses(401, 403) },
      },
    },
    async (request, reply) => {
      const work = consoleLogout(
        ctx,
        request.cookies[REFRESH_COOKIE],
        request.headers['x-csrf-token'],
        requestMetaOf(request),
      );
      await clearingOn401(reply, work);
      clearCookies(reply);
      return reply.status(204).send(null);
    },
  );
};
