import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';
import pino from 'pino';
import type { Config } from './config.js';

/** Secrets that must never reach a log line, wherever they appear in a logged object. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.access_token',
  '*.refresh_token',
  '*.token',
];

/** Every `params` array along an error's cause chain (Drizzle's DrizzleQueryError carries one). */
function queryParams(error: unknown): unknown[][] {
  const found: unknown[][] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 10 && typeof current === 'object' && current !== null; depth++) {
    const { params, cause } = current as { params?: unknown; cause?: unknown };
    if (Array.isArray(params)) found.push(params);
    current = cause;
  }
  return found;
}

/**
 * Errors keep their SQL but never the values bound to it. Drizzle writes a failed query's
 * parameters (patient fields, password hashes, token hashes) into the error's message and stack
 * (`\nparams: a,b,c`) and into a `params` property; a 500 or a database outage would log them.
 */
export function errSerializer(error: Error): pino.SerializedError {
  // Logging must never throw: anything that is not an Error (a string, a plain object) is
  // wrapped so the serializer below always has a message and a stack to scrub.
  if (!(error instanceof Error)) error = new Error(String(error));
  const out: pino.SerializedError = { ...pino.stdSerializers.err(error) };
  delete out.params;
  const exact = queryParams(error).map((params) => `\nparams: ${String(params)}`);
  const scrub = (text: string) => {
    let result = text;
    for (const needle of exact) result = result.split(needle).join('\nparams: [redacted]');
    // Any other "params:" block, up to the next stack frame or cause.
    return result.replace(
      /\nparams: (?!\[redacted\])[\s\S]*?(?=\n {4}at |\ncaused by: |$)/g,
      '\nparams: [redacted]',
    );
  };
  out.message = scrub(out.message);
  out.stack = scrub(out.stack);
  return out;
}

/** Request URLs are logged without their query string (`?q=<patient name>`). */
function reqSerializer(req: { method?: string; url?: string; ip?: string }) {
  return { method: req.method, url: req.url?.split('?')[0], remoteAddress: req.ip };
}

function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/** JSON logs by default; pretty only for a developer watching a terminal. */
export function loggerOptions(
  config: Config,
  stream?: { write(line: string): void },
): FastifyServerOptions['logger'] {
  const pretty =
    stream === undefined &&
    config.nodeEnv === 'development' &&
    process.stdout.isTTY &&
    prettyAvailable();
  return {
    level: config.logLevel,
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: { err: errSerializer, req: reqSerializer },
    ...(stream === undefined ? {} : { stream }),
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss' } } }
      : {}),
  };
}
