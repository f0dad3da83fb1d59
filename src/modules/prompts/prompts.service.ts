import type { AppContext } from '../../context.js';
import type { Tx } from '../../db/client.js';
import type { PromptRow } from '../../db/schema/prompts.js';
import { requirePermission } from '../../lib/access.js';
import { AppError, fieldError, forbidden, notFound, unlessStale } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/etag.js';
import { newId } from '../../lib/ids.js';
import { pageById } from '../../lib/pagination.js';
import { can, type Principal } from '../../lib/permissions.js';
import { schedulePromptGeneration } from './prompt-generation.js';
import * as repo from './prompts.repository.js';
import type {
  CreatePromptInput,
  ListPromptsQueryInput,
  PromptDto,
  UpdatePromptInput,
} from './prompts.schemas.js';
import { restore } from './redaction.js';

/*
 * The assistant log. Prompts are the caller's own notes to an assistant, not patient records, so
 * they are not written to the audit trail; they may still hold patient details, so their content
 * is never logged (request bodies are not logged, and database errors drop bound values).
 *
 * When an OpenAI-compatible endpoint is configured, creating or editing a prompt queues its
 * response (prompt-generation.ts); otherwise it stays `pending` with a null response.
 */

/**
 * The stored response keeps the placeholders the model saw; every reader gets the originals
 * back. The map holds only words the owner typed, and a prompt is read only by its owner or by
 * an admin (who may read every patient), so restoring shows nobody anything new. Showing the
 * placeholders to the owner instead would turn redaction into an oracle: a `user` could learn
 * which names belong to the practice's patients by seeing which ones came back replaced.
 */
function responseFor(row: PromptRow): string | null {
  if (row.response === null || row.redactions === null) return row.response;
  return restore(row.response, row.redactions);
}

export function toPromptDto(row: PromptRow): PromptDto {
  return {
    id: row.id,
    user_id: row.userId,
    content: row.content,
    response: responseFor(row),
    status: row.status,
    model: row.model,
    prompt_tokens: row.promptTokens,
    completion_tokens: row.completionTokens,
    latency_ms: row.latencyMs,
    error: row.error,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** Whitespace-only text passes the schema's pattern but says nothing: a 400. */
function requireVisibleText(content: string): void {
  if (content.trim() === '') {
    throw fieldError('body.content', 'must contain a visible character', 'The prompt is blank');
  }
}

/**
 * PROMPT_DAILY_QUOTA: prompts created since UTC midnight, counted under a per-user lock so that
 * parallel creates cannot overshoot. Deleting a prompt gives its slot back (the row is gone).
 */
async function enforceDailyQuota(
  ctx: Pick<AppContext, 'clock' | 'config'>,
  tx: Tx,
  userId: string,
): Promise<void> {
  const quota = ctx.config.promptDailyQuota;
  if (quota === 0) return;
  const now = ctx.clock.now();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  await repo.lockUserPrompts(tx, userId);
  if ((await repo.countPromptsSince(tx, userId, new Date(midnight))) < quota) return;
  const retryAfterS = Math.max(1, Math.ceil((midnight + 86_400_000 - now.getTime()) / 1000));
  throw new AppError(
    'prompt_quota_exceeded',
    `You have created your ${quota} prompts for today; more are allowed after midnight UTC`,
    { headers: { 'retry-after': String(retryAfterS) } },
  );
}

/**
 * Logs a new prompt for the caller, within the daily quota (429 beyond it). It is stored
 * `pending`; when generation is configured the response is produced in the background.
 */
export async function createPrompt(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'background'>,
  actor: Principal,
  input: CreatePromptInput,
): Promise<PromptDto> {
  requirePermission(actor, 'prompts.own');
  requireVisibleText(input.content);
  const row = await ctx.db.transaction(async (tx) => {
    await enforceDailyQuota(ctx, tx, actor.userId);
    // The quota counts by created_at, so it is taken from the same clock as "today".
    const now = ctx.clock.now();
    return repo.insertPrompt(tx, {
      id: newId(),
      userId: actor.userId,
      content: input.content,
      createdAt: now,
      updatedAt: now,
    });
  });
  schedulePromptGeneration(ctx, row);
  return toPromptDto(row);
}

/**
 * A prompt the caller may read: their own, or any one for a role that reads all. Anyone else's
 * is a 404, so ids of other users' prompts cannot be probed.
 */
async function loadReadable(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
): Promise<PromptRow> {
  const row = await repo.findPrompt(ctx.db, id);
  if (!row || (row.userId !== actor.userId && !can(actor.role, 'prompts.read_all'))) {
    throw notFound('prompt');
  }
  return row;
}

/** Only the owner changes a prompt; an admin who may see it gets 403, anyone else 404. */
async function loadOwn(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
): Promise<PromptRow> {
  const row = await loadReadable(ctx, actor, id);
  if (row.userId !== actor.userId) {
    throw forbidden('Only the owner may change or delete a prompt');
  }
  return row;
}

export async function getPrompt(ctx: Pick<AppContext, 'db'>, actor: Principal, id: string) {
  requirePermission(actor, 'prompts.own');
  return toPromptDto(await loadReadable(ctx, actor, id));
}

/**
 * The owner edits the text. The old response answered the old text, so it is cleared and the
 * prompt is `pending` again, and regenerated when generation is configured. (Edits are not
 * counted by the daily quota, which counts prompts created.)
 */
export async function updatePrompt(
  ctx: Pick<AppContext, 'db' | 'background'>,
  actor: Principal,
  id: string,
  input: UpdatePromptInput,
  ifMatch: string | undefined,
): Promise<PromptDto> {
  requirePermission(actor, 'prompts.own');
  requireVisibleText(input.content);
  const current = await loadOwn(ctx, actor, id);
  checkIfMatch(ifMatch, current.version);
  const update = repo.updatePrompt(ctx.db, id, current.version, {
    content: input.content,
    response: null,
    status: 'pending',
    model: null,
    promptTokens: null,
    completionTokens: null,
    latencyMs: null,
    error: null,
    redactions: null,
  });
  const row = await unlessStale('prompt', update);
  schedulePromptGeneration(ctx, row);
  return toPromptDto(row);
}

/**
 * The owner deletes a prompt. The delete is hard: a prompt is personal and may hold patient
 * details, so nothing of it is kept (it is not part of the audited record).
 */
export async function deletePrompt(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
  ifMatch: string | undefined,
): Promise<void> {
  requirePermission(actor, 'prompts.own');
  const current = await loadOwn(ctx, actor, id);
  checkIfMatch(ifMatch, current.version);
  await unlessStale('prompt', repo.deletePrompt(ctx.db, id, current.version));
}

/**
 * The caller's prompts, newest first. `user_id` (someone else's) or `all=true` read other
 * users' prompts and need `prompts.read_all` (403 otherwise, never silently narrowed).
 */
export async function listPrompts(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  query: ListPromptsQueryInput,
) {
  requirePermission(actor, 'prompts.own');
  if (query.all === true && query.user_id !== undefined) {
    throw fieldError(
      'query.all',
      'cannot be combined with user_id',
      'Give either user_id or all=true, not both',
    );
  }
  const everyone = query.all === true;
  const userId = everyone ? undefined : (query.user_id ?? actor.userId);
  if (everyone || userId !== actor.userId) requirePermission(actor, 'prompts.read_all');
  const page = await pageById(query, (beforeId, limit) =>
    repo.listPrompts(ctx.db, { userId, beforeId, limit }),
  );
  return {
    items: page.items.map(toPromptDto),
    next_cursor: page.next_cursor,
  };
}
