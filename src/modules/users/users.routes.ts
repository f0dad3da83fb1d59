import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { etagOf } from '../../lib/etag.js';
import { IdParams } from '../../lib/schema.js';
import { actorOf } from '../../plugins/auth.js';
import { sendCreated, sendTagged } from '../../plugins/reply.js';
import {
  CreateUserBody,
  DoctorPage,
  IfMatchHeaders,
  ListPageQuery,
  ListUsersQuery,
  PublicProfileSchema,
  UpdateMeBody,
  UpdateUserBody,
  UserPage,
} from './users.schemas.js';
import { unlockUser } from './lockout.service.js';
import * as users from './users.service.js';

const tags = ['users'];
const UserRef = Type.Ref('User');

export const usersRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'credentials'>;
}> = async (app, opts) => {
  const { ctx } = opts;

  app.get(
    '/users/me',
    {
      config: { access: 'self.manage' },
      schema: { tags, summary: 'Your own profile', response: { 200: UserRef } },
    },
    async (request, reply) => {
      const me = await users.getMe(ctx, actorOf(request));
      return sendTagged(reply, me);
    },
  );

  app.patch(
    '/users/me',
    {
      config: { access: 'self.manage' },
      schema: {
        tags,
        summary:
          'Update your profile (not your role or status; email change needs current_password)',
        body: UpdateMeBody,
        response: { 200: UserRef, 409: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      const me = await users.updateMe(ctx, actorOf(request), request.body);
      return sendTagged(reply, me);
    },
  );

  app.get(
    '/users',
    {
      config: { access: 'users.manage' },
      schema: {
        tags,
        summary: 'List accounts (admin)',
        querystring: ListUsersQuery,
        response: { 200: UserPage },
      },
    },
    async (request) => users.listUsers(ctx, actorOf(request), request.query),
  );

  app.post(
    '/users',
    {
      config: { access: 'users.manage' },
      schema: {
        tags,
        summary: 'Create a staff account with an initial password (admin)',
        body: CreateUserBody,
        response: { 201: UserRef, 409: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      const user = await users.createUser(ctx, actorOf(request), request.body);
      return sendCreated(reply, '/api/v1/users', user);
    },
  );

  app.get(
    '/users/:id',
    {
      // Staff may read a doctor's public profile; the service narrows everything else to admins.
      config: { access: 'doctors.read' },
      schema: {
        tags,
        summary: 'Read an account (admin), or a doctor’s public profile (staff)',
        params: IdParams,
        response: { 200: Type.Union([UserRef, PublicProfileSchema]), 404: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      const user = await users.getUser(ctx, actorOf(request), request.params.id);
      if ('version' in user && typeof user.version === 'number') {
        void reply.header('etag', etagOf(user.version));
      }
      return reply.send(user);
    },
  );

  app.patch(
    '/users/:id',
    {
      config: { access: 'users.manage' },
      schema: {
        tags,
        summary: 'Change an account (admin); role change or deactivation ends its sessions',
        params: IdParams,
        headers: IfMatchHeaders,
        body: UpdateUserBody,
        response: {
          200: UserRef,
          404: Type.Ref('Problem'),
          409: Type.Ref('Problem'),
          412: Type.Ref('Problem'),
        },
      },
    },
    async (request, reply) => {
      const user = await users.updateUser(
        ctx,
        actorOf(request),
        request.params.id,
        request.body,
        request.headers['if-match'],
      );
      return sendTagged(reply, user);
    },
  );

  app.delete(
    '/users/:id',
    {
      config: { access: 'users.manage' },
      schema: {
        tags,
        summary: 'Deactivate an account (soft delete; its sessions end)',
        params: IdParams,
        response: { 204: Type.Null(), 404: Type.Ref('Problem'), 409: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      await users.deactivateUser(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/admin/users/:id/unlock',
    {
      config: { access: 'users.manage' },
      schema: {
        tags: ['admin'],
        summary: 'Release a login lockout (failures and earlier locks are forgotten)',
        params: IdParams,
        response: { 204: Type.Null(), 404: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      await unlockUser(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/admin/users/:id/mfa/reset',
    {
      config: { access: 'users.manage' },
      schema: {
        tags: ['admin'],
        summary:
          'Turn off a user’s two-factor authentication (lost or hijacked authenticator); ends their sessions',
        params: IdParams,
        response: { 204: Type.Null(), 404: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      await ctx.credentials.resetMfa(actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/doctors',
    {
      config: { access: 'doctors.read' },
      schema: {
        tags,
        summary: 'Active doctors, for booking screens',
        querystring: ListPageQuery,
        response: { 200: DoctorPage },
      },
    },
    async (request) => users.listDoctors(ctx, actorOf(request), request.query),
  );
};
