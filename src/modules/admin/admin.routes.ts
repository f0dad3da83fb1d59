import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { actorOf } from '../../plugins/auth.js';
import { AdminStats, SystemInfo } from './admin.schemas.js';
import * as admin from './admin.service.js';

const tags = ['admin'];

/** Admin dashboard figures: practice counts and the running system. */
export const adminRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'background'>;
}> = async (app, opts) => {
  const { ctx } = opts;
  // Registered while the app is built, like /health's clock: uptime of this instance.
  const startedAt = Date.now();

  app.get(
    '/admin/stats',
    {
      config: { access: 'admin.stats' },
      schema: {
        tags,
        summary: 'Counts of users by role, patients, appointments (today too) and prescriptions',
        response: { 200: AdminStats },
      },
    },
    async (request) => admin.practiceStats(ctx, actorOf(request)),
  );

  app.get(
    '/admin/system',
    {
      config: { access: 'admin.stats' },
      schema: {
        tags,
        summary: 'Version, uptime, runtime, database and migrations, optional parts in use',
        response: { 200: SystemInfo },
      },
    },
    async (request) => admin.systemInfo(ctx, actorOf(request), startedAt),
  );
};
