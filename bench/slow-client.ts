/**
 * A slow client, measured from outside: sends a request one byte per second and reports when
 * the server answers (408) or closes. Two runs: slow headers, then fast headers and a slow body.
 *
 *   node --import tsx bench/slow-client.ts [port=8000] [host=127.0.0.1]
 *
 * With the defaults (HEADERS_TIMEOUT_MS=10000, REQUEST_TIMEOUT_MS=30000,
 * CONNECTIONS_CHECK_INTERVAL_MS=1000) expect ~10 s and ~30 s.
 */
import { connect } from 'node:net';

const port = Number(process.argv[2] ?? 8000);
const host = process.argv[3] ?? '127.0.0.1';

function slow(label: string, head: string, trickle: string): Promise<void> {
  return new Promise((done) => {
    const started = performance.now();
    const socket = connect(port, host);
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < trickle.length) socket.write(trickle[sent++] ?? '');
      }, 1_000);
    });
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `${label}: ${answer.split('\r\n')[0] || '(closed, no answer)'} after ${seconds} s`,
      );
      done();
    });
  });
}

await slow('slow headers', 'GET /health HTTP/1.1\r\nHost: x\r\n', `X-Slow: ${'a'.repeat(120)}`);
await slow(
  'slow body',
  'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 120\r\n\r\n',
  'x'.repeat(120),
);
