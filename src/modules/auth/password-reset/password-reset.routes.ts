import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../../context.js';
import { problemResponses } from '../../../lib/schema.js';
import {
  ForgotPasswordAccepted,
  ForgotPasswordBody,
  ResetPasswordBody,
} from './password-reset.schemas.js';
import * as reset from './password-reset.service.js';
import { requestMetaOf } from '../request-meta.js';

const tags = ['auth'];

/** Password forgot/reset: public routes, registered under /auth by auth.routes.ts. */
export const passwordResetRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'mailer' | 'background'>;
}> = async (app, opts) => {
  const { ctx } = opts;

  app.post(
    '/password/forgot',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Email a single-use password reset link; always 202 (no account enumeration)',
        body: ForgotPasswordBody,
        response: { 202: ForgotPasswordAccepted },
      },
    },
    async (request, reply) => {
      await reset.requestPasswordReset(
        ctx,
        request.body.email,
        requestMetaOf(request),
        (stage, facts) => {
          request.log.error({ stage, ...facts }, 'password reset: background step failed');
        },
      );
      return reply.status(202).send(reset.forgotAnswer);
    },
  );

  app.post(
    '/password/reset',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Set a new password with a reset token; every session of the account ends',
        description:
          'An unknown, expired or already used token is a 401 problem with code `invalid_token`.',
        body: ResetPasswordBody,
        response: { 204: Type.Null(), ...problemResponses(400, 401) },
      },
    },
    async (request, reply) => {
      await reset.resetPassword(ctx, request.body, requestMetaOf(request));
      return reply.status(204).send(null);
    },
  );
};
