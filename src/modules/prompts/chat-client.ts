import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A minimal OpenAI-compatible chat-completions client on Node's fetch: one POST per attempt,
 * each bounded by a timeout, retried with exponential backoff and jitter on what is likely
 * transient (network errors, timeouts, 429, 5xx). Error messages are short and built here from
 * status codes and error codes only: never the response body (it may echo the prompt) nor the
 * key.
 */

export interface ChatSettings {
  /** e.g. http://127.0.0.1:8080/v1; the client POSTs to `${baseUrl}/chat/completions`. */
  baseUrl: string;
  model: string;
  apiKey?: string | undefined;
  timeoutMs: number;
  maxAttempts: number;
  /** First retry waits between half and all of this; it doubles per attempt. */
  backoffBaseMs?: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatResult {
  content: string;
  /** The model the endpoint says answered (it may resolve an alias), else the one asked for. */
  model: string;
  promptTokens: number | null;
  completionTokens: number | null;
  /** Duration of the attempt that succeeded. */
  latencyMs: number;
  attempts: number;
}

export class ChatError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

/** Longest Retry-After honoured; a longer one ends the retries (waiting hours helps nobody). */
export const MAX_RETRY_AFTER_MS = 30_000;
const MAX_BACKOFF_MS = 10_000;
/** A chat answer is text; a body beyond this is refused rather than buffered. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Upper bound on one generation's wall time, for deciding when a `pending` row is orphaned. */
export function maxGenerationMs(settings: ChatSettings): number {
  return (
    settings.maxAttempts * settings.timeoutMs + (settings.maxAttempts - 1) * MAX_RETRY_AFTER_MS
  );
}

export function backoffMs(attempt: number, baseMs: number, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

async function readCapped(response: Response): Promise<string> {
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES)
      throw new ChatError('the model endpoint sent too large a body', false);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An OpenAI-style `{error: {code|type}}` identifier: short and safe to store. */
function errorCodeOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; type?: unknown } };
    const code = parsed.error?.code ?? parsed.error?.type;
    return typeof code === 'string' && /^[\w.-]{1,64}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

interface CompletionBody {
  model?: unknown;
  choices?: { message?: { content?: unknown } }[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
}

const count = (value: unknown): number | null =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 2_147_483_647
    ? value
    : null;

function parseCompletion(body: string, settings: ChatSettings) {
  let parsed: CompletionBody;
  try {
    parsed = JSON.parse(body) as CompletionBody;
  } catch {
    throw new ChatError('the model endpoint sent a body that is not JSON', false);
  }
  const content = parsed.choices?.[0]?.message?.content;
  if (typeof content !== 'string') {
    throw new ChatError('the model endpoint sent no message content', false);
  }
  return {
    content,
    model: typeof parsed.model === 'string' && parsed.model !== '' ? parsed.model : settings.model,
    promptTokens: count(parsed.usage?.prompt_tokens),
    completionTokens: count(parsed.usage?.completion_tokens),
  };
}

function networkError(error: unknown, timeoutMs: number): ChatError {
  if (error instanceof ChatError) return error;
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new ChatError(`the model endpoint did not answer within ${timeoutMs} ms`, true);
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return new ChatError(`could not reach the model endpoint${code}`, true);
}

async function attempt(
  settings: ChatSettings,
  messages: ChatMessage[],
  stop: AbortSignal,
): Promise<Omit<ChatResult, 'attempts'>> {
  const started = performance.now();
  const signal = AbortSignal.any([stop, AbortSignal.timeout(settings.timeoutMs)]);
  try {
    const response = await fetch(`${settings.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(settings.apiKey === undefined ? {} : { authorization: `Bearer ${settings.apiKey}` }),
      },
      body: JSON.stringify({ model: settings.model, messages }),
      signal,
      // A redirect would carry the prompt (and the key) somewhere not configured: refuse it.
      redirect: 'error',
    });
    // The timeout also covers reading the body: a server that stalls mid-answer is cut off.
    const body = await readCapped(response);
    if (!response.ok) {
      const code = errorCodeOf(body);
      const status = response.status;
      const message = `the model endpoint answered HTTP ${status}${code ? ` (${code})` : ''}`;
      const retryable = status === 408 || status === 429 || status >= 500;
      throw new ChatError(message, retryable, parseRetryAfter(response.headers.get('retry-after')));
    }
    return {
      ...parseCompletion(body, settings),
      latencyMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    if (stop.aborted) throw error;
    throw networkError(error, settings.timeoutMs);
  }
}

/**
 * Sends the conversation and returns the first choice. Throws ChatError (its message is safe to
 * store) once attempts are exhausted or the failure is not worth retrying; throws the abort
 * reason when `stop` fires (shutdown), so the caller can leave the work for later.
 */
export async function completeChat(
  settings: ChatSettings,
  messages: ChatMessage[],
  stop: AbortSignal,
): Promise<ChatResult> {
  for (let n = 1; ; n++) {
    try {
      return { ...(await attempt(settings, messages, stop)), attempts: n };
    } catch (error) {
      if (!(error instanceof ChatError) || !error.retryable) throw error;
      const tooLong = error.retryAfterMs !== undefined && error.retryAfterMs > MAX_RETRY_AFTER_MS;
      if (n >= settings.maxAttempts || tooLong) {
        throw new ChatError(`${error.message}; gave up after ${n} attempt(s)`, false);
      }
      const wait = Math.max(backoffMs(n, settings.backoffBaseMs ?? 500), error.retryAfterMs ?? 0);
      await sleep(wait, undefined, { signal: stop });
    }
  }
}
