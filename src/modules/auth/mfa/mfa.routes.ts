import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../../context.js';
import { problemResponses } from '../../../lib/schema.js';
import { actorOf } from '../../../plugins/auth.js';
import { requestMetaOf } from '../request-meta.js';
import {
  BackupCodesSchema,
  MfaVerifyBody,
  TotpDisableBody,
  TotpEnableBody,
  TotpSetupBody,
  TotpSetupSchema,
} from './mfa.schemas.js';
import * as mfa from './mfa.service.js';
import { verifyMfa } from './mfa-verify.service.js';

const tags = ['auth'];

/** TOTP enrolment and the second login step; registered by auth.routes.ts under /auth. */
export const mfaRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'tokens' | 'mfaKey'>;
}> = async (app, opts) => {
  const { ctx } = opts;

  app.post(
    '/mfa/verify',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Second login step: {mfa_token, code} (TOTP or backup code) -> token pair',
        body: MfaVerifyBody,
        response: { 200: Type.Ref('TokenPair'), ...problemResponses(401) },
      },
    },
    async (request, reply) => {
      const pair = await verifyMfa(ctx, request.body, requestMetaOf(request));
      return reply.header('cache-control', 'no-store').send(pair);
    },
  );

  app.post(
    '/mfa/totp/setup',
    {
      config: { access: 'self.manage' },
      schema: {
        tags,
        summary:
          'Start TOTP enrolment with your current password: a new secret and its otpauth:// URI (not active yet)',
        body: TotpSetupBody,
        response: { 200: TotpSetupSchema, ...problemResponses(409) },
      },
    },
    async (request, reply) => {
      const setup = await mfa.setupTotp(ctx, actorOf(request), request.body);
      // The secret must not linger in any cache.
      return reply.header('cache-control', 'no-store').send(setup);
    },
  );

  app.post(
    '/mfa/totp/enable',
    {
      config: { access: 'self.manage' },
      schema: {
        tags,
        summary: 'Turn TOTP on with a current code; returns 10 single-use backup codes, once',
        body: TotpEnableBody,
        response: { 200: BackupCodesSchema, ...problemResponses(409) },
      },
    },
    async (request, reply) => {
      const codes = await mfa.enableTotp(ctx, actorOf(request), request.body);
      return reply.header('cache-control', 'no-store').send(codes);
    },
  );

  app.post(
    '/mfa/totp/disable',
    {
      config: { access: 'self.manage' },
      schema: {
        tags,
        summary: 'Turn TOTP off with your password and a current code (or a backup code)',
        body: TotpDisableBody,
        response: { 204: Type.Null(), ...problemResponses(409) },
      },
    },
    async (request, reply) => {
      await mfa.disableTotp(ctx, actorOf(request), request.body);
      return reply.status(204).send(null);
    },
  );
};
