import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../context.js';
import { documentsRoutes } from './documents.routes.js';
import { DocumentSchema } from './documents.schemas.js';

/** Medical documents (uploads, downloads, thumbnails, text search); the `Document` component. */
export const documentsModule: FastifyPluginAsync<{
  ctx: Pick<AppContext, 'db' | 'config' | 'storage' | 'scanner'>;
}> = async (app, opts) => {
  app.addSchema(DocumentSchema);
  await app.register(documentsRoutes, { ctx: opts.ctx });
};
