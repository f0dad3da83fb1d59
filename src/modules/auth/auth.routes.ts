import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext, RequestMeta } from '../../context.js';
import { actorOf } from '../../plugins/auth.js';
import { AppError } from '../../lib/errors.js';
import { IdParams } from '../../lib/schema.js';
import { RegisterBody } from '../users/users.schemas.js';
import { ChangePasswordBody, LoginBody, RefreshBody, SessionPage } from './auth.schemas.js';
import * as auth from './auth.service.js';
import * as sessions from './sessions.service.js';

const tags = ['auth'];

export function requestMeta(request: FastifyRequest): RequestMeta {
  return { requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] };
}

/** Login lives in its own scope: it is the one route that also accepts an OAuth2 form body. */
const loginRoute: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, opts) => {
  await app.register(formbody, { bodyLimit: 16_384 });
  app.post(
    '/login',
    {
      config: { access: 'public' },
      // Per-content-type schemas are skipped when no body arrives at all: refuse that here.
      preValidation: async (request) => {
        if (typeof request.body !== 'object' || request.body === null) {
          throw new AppError('validation_failed', 'A JSON or form body is required', {
            errors: [{ field: 'body', message: 'is required' }],
          });
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
        response: { 200: Type.Ref('TokenPair') },
      },
    },
    async (request) =>
      auth.login(opts.ctx, request.body as Static<typeof LoginBody>, requestMeta(request)),
  );
};

export const authRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, opts) => {
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
    async (request, reply) => reply.status(201).send(await auth.register(ctx, request.body)),
  );

  await app.register(loginRoute, { ctx });

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
    async (request) =>
      auth.refresh(ctx, request.body.refresh_token, (event) => {
        request.log.warn(
          { session_id: event.sessionId, user_id: event.userId },
          'refresh token reuse: session revoked',
        );
      }),
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
      await auth.changePassword(ctx, actorOf(request), request.body);
      return reply.status(204).send(null);
    },
  );
};
