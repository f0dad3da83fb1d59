import { createHash, type Hash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import type { Db } from '../db/client.js';
import type { IdempotencyRow } from '../db/schema/idempotency.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import {
  completeKey,
  purgeExpiredKeys,
  releaseKey,
  reserveKey,
  type KeyRef,
} from './idempotency-store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route honours Idempotency-Key. 'json': the fingerprint is taken from the parsed body
     * before the handler runs. 'stream': the body streams through the handler (uploads), which
     * fingerprints it as it reads (`bodyFingerprint`) and settles it (`settleFingerprint`).
     */
    idempotency?: 'json' | 'stream';
  }
  interface FastifyRequest {
    idempotency?: IdempotencyClaim;
  }
}

interface IdempotencyClaim {
  /** Set when this request holds the key and its answer is to be stored. */
  ref?: KeyRef;
  /** A completed first answer to replay once the streamed body proves to be the same. */
  replayOf?: IdempotencyRow;
  fingerprint?: string;
  mode: 'json' | 'stream';
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';
// Visible ASCII, no spaces: UUIDs, ULIDs and the usual client-made keys fit.
const KEY_PATTERN = '^[!-~]{1,255}$';
const keyPattern = new RegExp(KEY_PATTERN);

/** The header schema the opted-in routes declare (so it is validated and in OpenAPI). */
export const IdempotencyHeaders = Type.Object({
  [IDEMPOTENCY_HEADER]: Type.Optional(
    Type.String({
      pattern: KEY_PATTERN,
      maxLength: 255,
      description:
        'Makes the create safe to retry: a retry with the same key and body (by the same user, ' +
        'within 24 h) gets the first answer back with `Idempotent-Replayed: true`; the same key ' +
        'with another body is a 422, while the first is still running a 409.',
    }),
  ),
});

// The first answer's headers a replay repeats; the rest (request id, rate limits) are the retry's.
const KEPT_HEADERS = ['content-type', 'location', 'etag'];
// Answers that describe a passing state (a conflict, a timeout, a limit): not stored, so a retry
// runs the request again. Every 5xx is treated the same way.
const TRANSIENT = new Set([408, 409, 423, 425, 429]);
// An in-progress row older than this belongs to a request that died without answering (a
// crash): the next retry may take it over. Longer than any request can run (30 s to receive,
// then bounded database, scanner and storage timeouts).
const STALE_LOCK_MS = 120_000;
const PURGE_INTERVAL_MS = 10 * 60_000;

export interface IdempotencyOptions {
  db: Db;
  clock: Clock;
  ttlS: number;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** A fingerprint started with what identifies the operation: method, route template, params. */
export function bodyFingerprint(request: FastifyRequest): Hash {
  const hash = createHash('sha256');
  const head = [request.method, request.routeOptions.url, canonical(request.params)];
  hash.update(JSON.stringify(head));
  return hash;
}

function jsonFingerprint(request: FastifyRequest): string {
  const hash = bodyFingerprint(request);
  hash.update(JSON.stringify([canonical(request.query), canonical(request.body ?? null)]));
  return hash.digest('hex');
}

function sendStored(reply: FastifyReply, row: IdempotencyRow): FastifyReply {
  return reply
    .code(row.status ?? 500)
    .headers(row.headers ?? {})
    .header('idempotent-replayed', 'true')
    .send(row.body ?? '');
}

const reused = () =>
  new AppError(
    'idempotency_key_reused',
    'This Idempotency-Key was used with a different request; use a new key for a new request',
  );

/**
 * For a 'stream' route, once the handler has read the whole body into `fingerprint`: a replay
 * is sent (or refused with 422 when the body differs) and true is returned; otherwise the
 * fingerprint is kept for the answer the handler is about to send, and false is returned.
 */
export function settleFingerprint(
  request: FastifyRequest,
  reply: FastifyReply,
  fingerprint: string,
): boolean {
  const claim = request.idempotency;
  if (claim === undefined) return false;
  if (claim.replayOf === undefined) {
    claim.fingerprint = fingerprint;
    return false;
  }
  if (claim.replayOf.fingerprint !== fingerprint) throw reused();
  sendStored(reply, claim.replayOf);
  return true;
}

/**
 * Idempotency-Key on creates (issue 13): the key is reserved per user in its own statement before
 * the handler runs; the answer is stored when it is sent, so a retry from any instance gets it
 * back for IDEMPOTENCY_TTL_S. Failures a retry may fix (5xx, and 408/409/423/425/429) release
 * the key instead; so does any non-2xx answer of a streamed upload, whose body may not have been
 * read to the end.
 */
export const idempotencyPlugin = fp(async (app: FastifyInstance, opts: IdempotencyOptions) => {
  const { db, clock } = opts;
  const ttlMs = opts.ttlS * 1000;

  app.addHook('preHandler', async (request, reply) => {
    const mode = request.routeOptions.config.idempotency;
    const key = request.headers[IDEMPOTENCY_HEADER];
    if (mode === undefined || key === undefined || request.principal === null) return;
    if (typeof key !== 'string' || !keyPattern.test(key)) {
      throw new AppError(
        'validation_failed',
        'Idempotency-Key must be 1 to 255 visible ASCII characters',
        {
          errors: [
            { field: 'headers.idempotency-key', message: 'must be 1-255 visible ASCII characters' },
          ],
        },
      );
    }
    const fingerprint = mode === 'json' ? jsonFingerprint(request) : null;
    const now = clock.now();
    const result = await reserveKey(
      db,
      { userId: request.principal.userId, key, fingerprint },
      now,
      new Date(now.getTime() + ttlMs),
      new Date(now.getTime() - STALE_LOCK_MS),
    );
    if (result.owned) {
      request.idempotency = {
        mode,
        ref: result.ref,
        ...(fingerprint === null ? {} : { fingerprint }),
      };
      return;
    }
    const { row } = result;
    if (row.status === null) {
      if (fingerprint !== null && row.fingerprint !== null && row.fingerprint !== fingerprint) {
        throw reused();
      }
      throw new AppError(
        'idempotency_in_progress',
        'A request with this Idempotency-Key is still in progress; retry after it has answered',
        { headers: { 'retry-after': '1' } },
      );
    }
    if (mode === 'stream') {
      // Known only after the body has streamed: the handler compares and replays.
      request.idempotency = { mode, replayOf: row };
      return;
    }
    if (row.fingerprint !== fingerprint) throw reused();
    return sendStored(reply, row);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    const ref = claim?.ref;
    if (claim === undefined || ref === undefined) return payload;
    claim.ref = undefined;
    const status = reply.statusCode;
    const keep =
      status < 500 &&
      !TRANSIENT.has(status) &&
      (claim.mode === 'json' || (status >= 200 && status < 300)) &&
      claim.fingerprint !== undefined &&
      typeof payload === 'string';
    try {
      if (keep && claim.fingerprint !== undefined && typeof payload === 'string') {
        const headers: Record<string, string> = {};
        for (const name of KEPT_HEADERS) {
          const value = reply.getHeader(name);
          if (value !== undefined) headers[name] = String(value);
        }
        await completeKey(db, ref, {
          fingerprint: claim.fingerprint,
          status,
          headers,
          body: payload,
        });
      } else {
        await releaseKey(db, ref);
      }
    } catch (error) {
      // The answer still goes out; the key stays reserved until STALE_LOCK_MS has passed.
      request.log.error({ err: error }, 'could not record the idempotency key');
    }
    return payload;
  });

  // Expired rows are already ignored (a reservation takes them over); this keeps the table small.
  const timer = setInterval(() => {
    purgeExpiredKeys(db, clock.now()).catch((error: unknown) => {
      app.log.warn({ err: error }, 'could not purge expired idempotency keys');
    });
  }, PURGE_INTERVAL_MS);
  timer.unref();
  app.addHook('onClose', () => {
    clearInterval(timer);
  });
});
