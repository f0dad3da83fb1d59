import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../context.js';
import { UserSchema } from '../users/users.schemas.js';
import { authRoutes } from './auth.routes.js';
import { TokenPairSchema } from './auth.schemas.js';
import { ConsoleSessionSchema } from './console/console.schemas.js';

/**
 * Sign-in and sessions under `/auth`: register, login (password, OAuth2 form, MFA step), refresh,
 * logout, sessions, password change and reset, TOTP enrolment, the staff console's cookie sessions;
 * the `TokenPair` and `ConsoleSession` components. Register
 * answers a `User`, so that component (owned by users) is added here too.
 */
export const authModule: FastifyPluginAsync<{
  ctx: Pick<
    AppContext,
    'db' | 'clock' | 'config' | 'tokens' | 'mfaKey' | 'csrf' | 'mailer' | 'background'
  >;
}> = async (app, opts) => {
  app.addSchema(UserSchema);
  app.addSchema(TokenPairSchema);
  app.addSchema(ConsoleSessionSchema);
  await app.register(authRoutes, { prefix: '/auth', ctx: opts.ctx });
};
