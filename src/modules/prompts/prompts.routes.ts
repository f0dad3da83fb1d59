import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { resourceRoutes } from '../../plugins/routes.js';
import {
  CreatePromptBody,
  ListPromptsQuery,
  PromptPage,
  UpdatePromptBody,
} from './prompts.schemas.js';
import { resumePendingPrompts, startPromptGeneration } from './prompt-generation.js';
import * as prompts from './prompts.service.js';

export const promptsRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'background'>;
}> = async (app, opts) => {
  const { ctx } = opts;
  const generation = startPromptGeneration(ctx, app.log.child({ module: 'prompts' }));
  if (generation !== undefined) {
    // Before connections close: in-flight calls stop and their prompts stay `pending`.
    app.addHook('preClose', async () => {
      generation.stop();
    });
    // Best effort: a failed sweep must not stop the server; the rows wait for the next start.
    app.addHook('onReady', async () => {
      await resumePendingPrompts(ctx).catch((error: unknown) => {
        app.log.warn({ err: error }, 'could not resume pending prompts');
      });
    });
  }

  const route = resourceRoutes(app, ctx, { tags: ['prompts'], resource: Type.Ref('Prompt') });

  route.list(
    '/prompts',
    {
      access: 'prompts.own',
      summary: "Own prompts, newest first (admins: `user_id=` or `all=true` for others')",
      querystring: ListPromptsQuery,
      page: PromptPage,
    },
    prompts.listPrompts,
  );

  route.create(
    '/prompts',
    {
      access: 'prompts.own',
      summary:
        'Log a prompt: 201 `pending` at once; the response is generated in the background when an LLM endpoint is configured',
      description:
        'Patient identifiers (known patient names and MRNs, dates, phone numbers, emails) are replaced by placeholders before the text leaves the server. Each user may create PROMPT_DAILY_QUOTA prompts per UTC day (429 `prompt_quota_exceeded` with Retry-After beyond it).',
      body: CreatePromptBody,
      problems: [429],
    },
    prompts.createPrompt,
  );

  route.read(
    '/prompts/:id',
    { access: 'prompts.own', summary: 'Read a prompt (the owner; admins any)' },
    prompts.getPrompt,
  );

  route.update(
    '/prompts/:id',
    {
      access: 'prompts.own',
      summary: 'Edit own prompt text (clears the response; `pending` again, then regenerated)',
      body: UpdatePromptBody,
      problems: [412],
    },
    prompts.updatePrompt,
  );

  route.remove(
    '/prompts/:id',
    {
      access: 'prompts.own',
      summary: 'Delete own prompt (hard delete: nothing of it is kept)',
      problems: [412],
    },
    prompts.deletePrompt,
  );
};
