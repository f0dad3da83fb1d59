import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../context.js';
import { auditRoutes } from './audit.routes.js';

/** The audit trail: `/admin/audit` and its verification. */
export const auditModule: FastifyPluginAsync<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'metrics'>;
}> = async (app, opts) => {
  await app.register(auditRoutes, { ctx: opts.ctx });
};
