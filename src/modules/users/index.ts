import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../context.js';
import { usersRoutes } from './users.routes.js';
import { UserSchema } from './users.schemas.js';

/**
 * Staff accounts: `/users`, `/users/me`, `/doctors` and the admin unlock and MFA reset; the
 * `User` component.
 */
export const usersModule: FastifyPluginAsync<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'credentials'>;
}> = async (app, opts) => {
  app.addSchema(UserSchema);
  await app.register(usersRoutes, { ctx: opts.ctx });
};
