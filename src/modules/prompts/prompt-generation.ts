import type { FastifyBaseLogger } from 'fastify';
import pLimit, { type LimitFunction } from 'p-limit';
import type { AppContext } from '../../context.js';
import type { PromptRow } from '../../db/schema/prompts.js';
import type { BackgroundTasks } from '../../lib/background.js';
import { ChatError, completeChat, maxGenerationMs, type ChatSettings } from './chat-client.js';
import { findKnownIdentifiers } from './patient-identifiers.repository.js';
import * as repo from './prompts.repository.js';
import { identifierCandidates, redact } from './redaction.js';

/*
 * Background generation of prompt responses through an OpenAI-compatible endpoint. A request
 * stores the prompt `pending` and hands its id and version here; the answer (or the failure) is
 * written back only while the row is still at that version, so an edit or a delete made in the
 * meantime wins over a late answer. Nothing about the text (prompt, response, identifiers) is
 * logged: only prompt ids, attempt counts and our own short error messages.
 */

const SYSTEM_PROMPT =
  'You are an assistant for the staff of a medical practice. Identifiers in the text were ' +
  'replaced by placeholders such as [PATIENT_1], [MRN_1], [DOB_1], [DATE_1], [PHONE_1] or ' +
  '[EMAIL_1]. Refer to them by the same placeholders, verbatim; never guess the real values.';

/** Stale `pending` prompts picked up at startup, per instance. */
const RESUME_BATCH = 100;

/**
 * Calls in flight to the model endpoint per instance. The endpoint is metered and rate-limited
 * on its side; a burst of prompts queues here instead of opening a connection each.
 */
const PARALLEL_CALLS = 4;

interface Generation {
  settings: ChatSettings;
  /** Runs at most PARALLEL_CALLS calls at once; the others wait their turn. */
  calls: LimitFunction;
  log: FastifyBaseLogger;
  /** Fires at shutdown: in-flight calls stop and their prompts stay `pending` for a restart. */
  stop: AbortController;
  /** `id:version` of generations queued or running here, so a sweep never doubles one. */
  scheduled: Set<string>;
}

// One per application (tests build several apps in one process), keyed by the application's
// background task set, which runs its generations; absent = not configured.
const generations = new WeakMap<BackgroundTasks, Generation>();

/**
 * Turns generation on for this application when LLM_BASE_URL is configured; returns the
 * shutdown hook, or undefined when there is nothing to run. `backoffBaseMs` is for tests.
 */
export function startPromptGeneration(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'background'>,
  log: FastifyBaseLogger,
  options: { backoffBaseMs?: number } = {},
): { stop: () => void } | undefined {
  const { llmBaseUrl, llmModel } = ctx.config;
  if (llmBaseUrl === undefined || llmModel === undefined) return undefined;
  const generation: Generation = {
    settings: {
      baseUrl: llmBaseUrl,
      model: llmModel,
      apiKey: ctx.config.llmApiKey,
      timeoutMs: ctx.config.llmTimeoutMs,
      maxAttempts: ctx.config.llmMaxAttempts,
      ...options,
    },
    calls: pLimit(PARALLEL_CALLS),
    log,
    stop: new AbortController(),
    scheduled: new Set(),
  };
  generations.set(ctx.background, generation);
  // Prompts left pending by another instance's stop or crash are picked up by whichever instance
  // sweeps next, not only at the next start. A failed sweep is retried at the next tick.
  const sweeper = setInterval(() => {
    resumePendingPrompts(ctx).catch((error: unknown) => {
      log.warn({ err: error }, 'could not resume pending prompts');
    });
  }, ctx.config.llmResumeIntervalMs);
  sweeper.unref();
  return {
    stop: () => {
      clearInterval(sweeper);
      generation.stop.abort();
    },
  };
}

export function generationEnabled(ctx: Pick<AppContext, 'background'>): boolean {
  return generations.has(ctx.background);
}

/**
 * Queues the response for a just-stored `pending` prompt and returns at once. The queue is not
 * awaited even when the background set is full: the row is already stored, so the request has
 * nothing to wait for (the daily quota and the rate limiter bound how many arrive).
 */
export function schedulePromptGeneration(
  ctx: Pick<AppContext, 'db' | 'background'>,
  row: Pick<PromptRow, 'id' | 'version'>,
): void {
  const generation = generations.get(ctx.background);
  if (generation === undefined || generation.stop.signal.aborted) return;
  const job = `${row.id}:${row.version}`;
  if (generation.scheduled.has(job)) return;
  generation.scheduled.add(job);
  void ctx.background.run(
    () =>
      generate(ctx, generation, row.id, row.version).finally(() => {
        generation.scheduled.delete(job);
      }),
    (error) => {
      generation.log.error({ err: error, promptId: row.id }, 'prompt generation crashed');
    },
  );
}

/**
 * Picks up prompts left `pending` by a stop or crash: at start, then every
 * LLM_RESUME_INTERVAL_MS. Only rows untouched for longer than a generation can take are resumed,
 * so a prompt another instance is still answering is rarely sent twice (a duplicate would only
 * cost tokens: the version check keeps one answer), and one queued here never is.
 */
export async function resumePendingPrompts(
  ctx: Pick<AppContext, 'db' | 'clock' | 'background'>,
): Promise<number> {
  const generation = generations.get(ctx.background);
  if (generation === undefined) return 0;
  const before = new Date(ctx.clock.now().getTime() - maxGenerationMs(generation.settings));
  const stale = await repo.listStalePending(ctx.db, before, RESUME_BATCH);
  for (const row of stale) schedulePromptGeneration(ctx, row);
  if (stale.length > 0) generation.log.info({ count: stale.length }, 'resuming pending prompts');
  return stale.length;
}

const withoutNul = (text: string) => text.replaceAll('\u0000', '');

async function generate(
  ctx: Pick<AppContext, 'db'>,
  generation: Generation,
  id: string,
  version: number,
): Promise<void> {
  const row = await repo.findPrompt(ctx.db, id);
  if (row === undefined || row.version !== version || row.status !== 'pending') return;
  // Redaction failing (database down) throws before anything is sent: fail closed.
  const known = await findKnownIdentifiers(ctx.db, identifierCandidates(row.content));
  const redacted = redact(row.content, known);
  const stop = generation.stop.signal;
  let changes: Partial<PromptRow>;
  try {
    const result = await generation.calls(() =>
      completeChat(
        generation.settings,
        [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: redacted.text },
        ],
        stop,
      ),
    );
    changes = {
      status: 'completed',
      // PostgreSQL text cannot hold NUL; a model that sends one must not leave the prompt pending.
      response: withoutNul(result.content),
      redactions: redacted.placeholders,
      model: withoutNul(result.model),
      promptTokens: result.promptTokens,
      completionTokens: result.completionTokens,
      latencyMs: result.latencyMs,
      error: null,
    };
  } catch (error) {
    if (stop.aborted) return; // shutdown: stays pending, resumed after the restart
    if (!(error instanceof ChatError)) throw error;
    generation.log.warn({ promptId: id, reason: error.message }, 'prompt generation failed');
    changes = { status: 'failed', error: error.message, model: generation.settings.model };
  }
  let saved: PromptRow | undefined;
  try {
    saved = await repo.updatePrompt(ctx.db, id, version, changes);
  } catch (error) {
    // An answer the database refuses is a failed generation, not a prompt pending forever.
    if (changes.status !== 'completed') throw error;
    generation.log.warn({ promptId: id, err: error }, 'prompt answer could not be stored');
    saved = await repo.updatePrompt(ctx.db, id, version, {
      status: 'failed',
      error: 'the model answer could not be stored',
      model: generation.settings.model,
    });
  }
  if (saved === undefined) {
    generation.log.debug({ promptId: id }, 'prompt changed during generation; answer dropped');
  }
}
