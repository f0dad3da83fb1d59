import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { actorOf } from '../../plugins/auth.js';
import { resourceRoutes } from '../../plugins/routes.js';
import { CreateStatusCheckBody, ListStatusChecksQuery, StatusCheckPage } from './status.schemas.js';
import * as status from './status.service.js';

const tags = ['status'];
const StatusCheckRef = Type.Ref('StatusCheck');

export const statusRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'clock'>;
}> = async (app, opts) => {
  const { ctx } = opts;
  resourceRoutes(app, ctx, { tags, resource: StatusCheckRef }).list(
    '/status',
    {
      access: 'status.read',
      summary: 'List status checks, newest first',
      querystring: ListStatusChecksQuery,
      page: StatusCheckPage,
    },
    status.listStatusChecks,
  );

  app.post(
    '/status',
    {
      config: { access: 'status.write' },
      schema: {
        tags,
        summary: 'Record a status check',
        body: CreateStatusCheckBody,
        response: { 201: StatusCheckRef },
      },
    },
    async (request, reply) => {
      const created = await status.recordStatusCheck(ctx, actorOf(request), request.body);
      return reply.status(201).send(created);
    },
  );
};
