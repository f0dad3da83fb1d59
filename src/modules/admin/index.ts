import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../context.js';
import { adminRoutes } from './admin.routes.js';

/** Admin dashboards: `/admin/stats` and `/admin/system`. */
export const adminModule: FastifyPluginAsync<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'background'>;
}> = async (app, opts) => {
  await app.register(adminRoutes, { ctx: opts.ctx });
};
