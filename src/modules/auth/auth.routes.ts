import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { actorOf } from '../../plugins/auth.js';
import { AppError, fieldError } from '../../lib/errors.js';
import { IdParams } from '../../lib/schema.js';
import { RegisterBody } from '../users/users.schemas.js';
import { ChangePasswordBody, LoginBody, RefreshBody, SessionPage } from './auth.schemas.js';
import { consoleRoutes } from './console/console.routes.js';
import { changePassword } from './password/password-change.service.js';
import { refresh } from './refresh/refresh.service.js';
import { register } from './register/register.service.js';
import { login } from './login/login.service.js';
import { MfaChallengeSchema } from './mfa/mfa.schemas.js';
import { mfaRoutes } from './mfa/mfa.routes.js';
import { requestMetaOf } from './request-meta.js';
import { passwordResetRoutes } from './password-reset/password-reset.routes.js';
import * as sessions from './sessions/sessions.service.js';

const tags = ['auth'];

/** Login lives in its own scope: it is the one route that also accepts an OAuth2 form body. */
const loginRoute: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'tokens'>;
}> = async (app, opts) => {
  await app.register(formbody, { bodyLimit: 16_384 });
  app.post(
    '/login',
    {
      config: { access: 'public' },
      // Per-content-type schemas are skipped when no body arrives at all: refuse that here.
      preValidation: async (request) => {
        if (typeof request.body !== 'object' || request.body === null) {
          throw fieldError('body', 'is required', 'A JSON or form body is required');
        }
      },
      schema: {
        tags,
        summary: 'Log in with JSON {email|username, password} or the OAuth2 password form',
        body: {
          content: {
            'application/json': { schema: LoginBody },
            'application/x-www-form-urlencoded': { schema: LoginBody },
          },
        },
        // A token pair, or (MFA on) a challenge to answer at /auth/mfa/verify.
        response: { 200: Type.Union([Type.Ref('TokenPair'), MfaChallengeSchema]) },
      },
    },
    async (request) => {
      const result = await login(
        opts.ctx,
        request.body as Static<typeof LoginBody>,
        requestMetaOf(request),
      );
      // The OAuth2 form (Swagger UI's Authorize) can only take a token: a second factor has
      // nowhere to go there, so the caller is sent to the JSON login instead of a challenge
      // Swagger UI would silently drop. The challenge started is never answered and expires.
      const form = (request.headers['content-type'] ?? '').startsWith(
        'application/x-www-form-urlencoded',
      );
      if ('mfa_required' in result && form) {
        throw new AppError(
          'bad_request',
          'This account uses two-factor authentication, which the OAuth2 password form cannot ' +
            'complete: log in with POST /api/v1/auth/login (JSON) and /api/v1/auth/mfa/verify, ' +
            'then authorize with the access token (bearerAuth)',
        );
      }
      return result;
    },
  );
};

export const authRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<
    AppContext,
    'db' | 'clock' | 'config' | 'tokens' | 'mfaKey' | 'csrf' | 'mailer' | 'background'
  >;
}> = async (app, opts) => {
  const { ctx } = opts;

  app.post(
    '/register',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Create an account (role `user`); may be closed by configuration',
        body: RegisterBody,
        response: { 201: Type.Ref('User'), 409: Type.Ref('Problem') },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await register(ctx, request.body, requestMetaOf(request))),
  );

  await app.register(loginRoute, { ctx });
  await app.register(mfaRoutes, { ctx });

  app.post(
    '/refresh',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary:
          'Rotate a refresh token for a new pair (replay within the grace returns the same pair)',
        body: RefreshBody,
        response: { 200: Type.Ref('TokenPair') },
      },
    },
    // Reuse after the grace is recorded in the audit trail (auth.refresh_reuse), not the log.
    async (request) => refresh(ctx, request.body.refresh_token, requestMetaOf(request)),
  );

  app.post(
    '/logout',
    {
      config: { access: 'self.manage' },
      schema: { tags, summary: 'End this session', response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await sessions.logout(ctx, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/logout-all',
    {
      config: { access: 'self.manage' },
      schema: { tags, summary: 'End every session of the caller', response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await sessions.logoutAll(ctx, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/sessions',
    {
      config: { access: 'self.manage' },
      schema: { tags, summary: "The caller's live sessions", response: { 200: SessionPage } },
    },
    async (request) => sessions.listSessions(ctx, actorOf(request)),
  );

  app.delete(
    '/sessions/:id',
    {
      config: { access: 'self.manage' },
      schema: {
        tags,
        summary: 'Revoke one of your sessions',
        params: IdParams,
        response: { 204: Type.Null(), 404: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      await sessions.revokeOwnSession(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/password/change',
    {
      config: { access: 'self.manage' },
      schema: {
        tags,
        summary: 'Change your password; other sessions end',
        body: ChangePasswordBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await changePassword(ctx, actorOf(request), request.body);
      return reply.status(204).send(null);
    },
  );

  await app.register(passwordResetRoutes, { ctx });
  // The staff console's cookie sessions (refresh token in an HttpOnly cookie, CSRF header).
  await app.register(consoleRoutes, { prefix: '/console', ctx });
};
