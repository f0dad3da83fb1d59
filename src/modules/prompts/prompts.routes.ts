import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams } from '../../lib/schema.js';
import { actorOf } from '../../plugins/auth.js';
import { sendCreated, sendTagged } from '../../plugins/reply.js';
import { IfMatchHeaders } from '../users/users.schemas.js';
import {
  CreatePromptBody,
  ListPromptsQuery,
  PromptPage,
  UpdatePromptBody,
} from './prompts.schemas.js';
import { resumePendingPrompts, startPromptGeneration } from './prompt-generation.js';
import * as prompts from './prompts.service.js';

const tags = ['prompts'];
const PromptRef = Type.Ref('Prompt');
const Problem = Type.Ref('Problem');

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

  app.get(
    '/prompts',
    {
      config: { access: 'prompts.own' },
      schema: {
        tags,
        summary: "Own prompts, newest first (admins: `user_id=` or `all=true` for others')",
        querystring: ListPromptsQuery,
        response: { 200: PromptPage },
      },
    },
    async (request) => prompts.listPrompts(ctx, actorOf(request), request.query),
  );

  app.post(
    '/prompts',
    {
      config: { access: 'prompts.own' },
      schema: {
        tags,
        summary:
          'Log a prompt: 201 `pending` at once; the response is generated in the background when an LLM endpoint is configured',
        description:
          'Patient identifiers (known patient names and MRNs, dates, phone numbers, emails) are replaced by placeholders before the text leaves the server. Each user may create PROMPT_DAILY_QUOTA prompts per UTC day (429 `prompt_quota_exceeded` with Retry-After beyond it).',
        body: CreatePromptBody,
        response: { 201: PromptRef, 429: Problem },
      },
    },
    async (request, reply) => {
      const created = await prompts.createPrompt(ctx, actorOf(request), request.body);
      return sendCreated(reply, '/api/v1/prompts', created);
    },
  );

  app.get(
    '/prompts/:id',
    {
      config: { access: 'prompts.own' },
      schema: {
        tags,
        summary: 'Read a prompt (the owner; admins any)',
        params: IdParams,
        response: { 200: PromptRef, 404: Problem },
      },
    },
    async (request, reply) => {
      const found = await prompts.getPrompt(ctx, actorOf(request), request.params.id);
      return sendTagged(reply, found);
    },
  );

  app.patch(
    '/prompts/:id',
    {
      config: { access: 'prompts.own' },
      schema: {
        tags,
        summary: 'Edit own prompt text (clears the response; `pending` again, then regenerated)',
        params: IdParams,
        headers: IfMatchHeaders,
        body: UpdatePromptBody,
        response: { 200: PromptRef, 404: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      const updated = await prompts.updatePrompt(
        ctx,
        actorOf(request),
        request.params.id,
        request.body,
        request.headers['if-match'],
      );
      return sendTagged(reply, updated);
    },
  );

  app.delete(
    '/prompts/:id',
    {
      config: { access: 'prompts.own' },
      schema: {
        tags,
        summary: 'Delete own prompt (hard delete: nothing of it is kept)',
        params: IdParams,
        headers: IfMatchHeaders,
        response: { 204: Type.Null(), 404: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      await prompts.deletePrompt(
        ctx,
        actorOf(request),
        request.params.id,
        request.headers['if-match'],
      );
      return reply.status(204).send(null);
    },
  );
};
