/**
 * A small fetch client for tests that talk to real servers over the network (the multi-instance
 * test): JSON in and out, a bearer token, a time limit, and a network failure reported as status
 * 0 instead of thrown, so a load loop can count refused connections like any other answer.
 */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: unknown;
  /** The network error, for status 0. */
  error?: string;
}

export interface HttpOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export async function http(
  base: string,
  method: string,
  path: string,
  options: HttpOptions = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON (an nginx error page): keep the text
    }
    return { status: res.status, headers: res.headers, body };
  } catch (error) {
    const cause = error instanceof Error ? (error.cause ?? error) : error;
    return {
      status: 0,
      headers: new Headers(),
      body: null,
      error: cause instanceof Error ? cause.message : String(cause),
    };
  }
}

/** A field of a JSON body, as a string (ids, tokens). */
export function field(answer: HttpAnswer, name: string): string {
  const value = (answer.body as Record<string, unknown> | null)?.[name];
  if (typeof value !== 'string') {
    throw new Error(`no ${name} in ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return value;
}
