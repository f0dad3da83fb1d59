/**
 * A real HTTP client of the appointment event stream (inject cannot stream), shared by the
 * event-stream tests and bench/outbox-lag.ts: it collects what arrives, with the time it arrived.
 * No vitest here, so a benchmark can import it.
 */
import { performance } from 'node:perf_hooks';

export interface SseMessage {
  id: string | undefined;
  event: string | undefined;
  data: string;
  /** When the client read it (performance.now()). */
  at: number;
}

/** What a stream delivered so far. */
export interface SseClient {
  status: number;
  contentType: string | null;
  messages: SseMessage[];
  comments: { text: string; at: number }[];
  retries: number[];
  /** Set when the server ended the stream (performance.now()). */
  endedAt: number | undefined;
  close(): void;
}

export async function openSse(
  baseUrl: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/api/v1/appointments/events`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const client: SseClient = {
    status: res.status,
    contentType: res.headers.get('content-type'),
    messages: [],
    comments: [],
    retries: [],
    endedAt: undefined,
    close: () => {
      controller.abort();
    },
  };
  const body = res.body;
  if (body === null) return client;
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: SseMessage = { id: undefined, event: undefined, data: '', at: 0 };
          let isMessage = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':'))
              client.comments.push({ text: line.slice(1).trim(), at: performance.now() });
            else if (line.startsWith('retry: ')) client.retries.push(Number(line.slice(7)));
            else if (line.startsWith('id: ')) message.id = line.slice(4);
            else if (line.startsWith('event: ')) message.event = line.slice(7);
            else if (line.startsWith('data: ')) {
              message.data += line.slice(6);
              isMessage = true;
            }
          }
          if (isMessage) client.messages.push({ ...message, at: performance.now() });
        }
      }
      client.endedAt = performance.now();
    } catch {
      // Aborted by the test, or the connection was cut: both end the stream.
      client.endedAt ??= performance.now();
    }
  })();
  return client;
}
