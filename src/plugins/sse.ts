import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A server-sent-events response (text/event-stream), written on the raw socket: the reply is
 * hijacked, so Fastify neither serializes nor times it. Not a plugin: a helper for routes, like
 * reply.ts. (No library: @fastify/sse is 0.x and requires Node >= 20.20.2, above our floor of
 * 20.19; fastify-sse-v2 streams async iterables and leaves heartbeats, backpressure and a
 * graceful end to us anyway. The format itself is a few lines.)
 */
export interface EventStream {
  /**
   * One message; `data` must not contain a newline (JSON.stringify never writes one). Without an
   * id the client's Last-Event-ID stays as it was.
   */
  send(id: number | string | undefined, event: string, data: string): void;
  comment(text: string): void;
  /** Ends the stream; with `retryMs`, first tells the client when to reconnect. */
  close(retryMs?: number): void;
  readonly closed: boolean;
  /** Runs once the stream ended, whichever side ended it. */
  onClose(listener: () => void): void;
}

export interface EventStreamOptions {
  /** `: ping` after this long without anything written (keeps proxies and clients patient). */
  heartbeatMs: number;
  /** A client that does not read: its stream is cut past this many buffered bytes. */
  maxBufferedBytes?: number;
  /** The reconnect delay suggested to clients (the `retry:` field). */
  retryMs?: number;
}

export function openEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  options: EventStreamOptions,
): EventStream {
  const maxBuffered = options.maxBufferedBytes ?? 1_048_576;
  reply.hijack();
  const raw = reply.raw;
  // Headers hooks already set (request id, security headers, CORS) are kept.
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers[name] = value;
  }
  raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    // nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  // A stream is long by design: no idle timeout on its socket (heartbeats keep it busy anyway).
  request.raw.socket.setTimeout(0);
  request.raw.socket.setNoDelay(true);

  let closed = false;
  let lastWrite = performance.now();
  const listeners: (() => void)[] = [];
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const listener of listeners.splice(0)) listener();
  };
  const write = (chunk: string) => {
    if (closed) return;
    if (raw.destroyed || raw.writableEnded) {
      finish();
      return;
    }
    raw.write(chunk);
    lastWrite = performance.now();
    if (raw.writableLength > maxBuffered) {
      // It will reconnect with Last-Event-ID and get the rest from the outbox.
      raw.destroy();
      finish();
    }
  };
  const heartbeat = setInterval(
    () => {
      if (performance.now() - lastWrite >= options.heartbeatMs - 5) write(': ping\n\n');
    },
    Math.max(50, Math.floor(options.heartbeatMs / 2)),
  );
  heartbeat.unref();
  raw.on('close', finish);
  // A write racing a lost connection must not become an unhandled 'error' (a crash).
  raw.on('error', finish);
  request.raw.on('close', () => {
    if (raw.writableFinished || request.raw.destroyed) finish();
  });

  write(`retry: ${options.retryMs ?? 2_000}\n\n`);
  return {
    get closed() {
      return closed;
    },
    send(id, event, data) {
      write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`);
    },
    comment(text) {
      write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
    },
    close(retryMs) {
      if (closed) return;
      if (retryMs !== undefined) write(`retry: ${retryMs}\n: reconnect\n\n`);
      raw.end();
      finish();
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
  };
}
