import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../context.js';
import { promptsRoutes } from './prompts.routes.js';
import { PromptSchema } from './prompts.schemas.js';

/** The assistant prompts log and its generation; the `Prompt` component. */
export const promptsModule: FastifyPluginAsync<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'background'>;
}> = async (app, opts) => {
  app.addSchema(PromptSchema);
  await app.register(promptsRoutes, { ctx: opts.ctx });
};
