import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { problemResponses } from '../../lib/schema.js';
import { actorOf } from '../../plugins/auth.js';
import { AuditPage, AuditQuery, AuditVerification } from './audit.schemas.js';
import { registerSealingMetrics, startAuditSealer } from './audit.sealer.js';
import * as audit from './audit.service.js';

const tags = ['admin'];

/** Admin views of the audit trail. Writing happens in the services, next to what they audit. */
export const auditRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'metrics'>;
}> = async (app, opts) => {
  const { ctx } = opts;
  registerSealingMetrics(ctx);
  // Links committed audit rows into the hash chain; one instance at a time does the work.
  const sealer = startAuditSealer(
    ctx.db,
    ctx.config.auditSealIntervalMs,
    app.log.child({ module: 'audit' }),
  );
  app.addHook('onClose', () => sealer.stop());

  app.get(
    '/admin/audit',
    {
      config: { access: 'audit.read' },
      schema: {
        tags,
        summary: 'The audit trail, newest first; filter by actor, patient, action, outcome, time',
        querystring: AuditQuery,
        response: { 200: AuditPage, ...problemResponses(400) },
      },
    },
    async (request) => audit.listAudit(ctx, actorOf(request), request.query),
  );

  app.get(
    '/admin/audit/verify',
    {
      config: { access: 'audit.read' },
      schema: {
        tags,
        summary: 'Recompute the audit hash chain and report the first broken link',
        response: { 200: AuditVerification },
      },
    },
    async (request) => audit.verifyAudit(ctx, actorOf(request)),
  );
};
