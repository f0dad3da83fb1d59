import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../context.js';
import { statusRoutes } from './status.routes.js';
import { StatusCheckSchema } from './status.schemas.js';

/** Status checks; the `StatusCheck` component. */
export const statusModule: FastifyPluginAsync<{ ctx: Pick<AppContext, 'db' | 'clock'> }> = async (
  app,
  opts,
) => {
  app.addSchema(StatusCheckSchema);
  await app.register(statusRoutes, { ctx: opts.ctx });
};
