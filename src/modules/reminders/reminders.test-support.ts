/**
 * A real SMTP server for the reminder tests (smtp-server on 127.0.0.1, a random port) and the
 * little MIME reading they need: headers, and the decoded text of an attachment.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  raw: string;
  /** performance.now() when the server answered 250 (accepted the message). */
  acceptedAt: number;
}

export interface SmtpSink {
  readonly port: number;
  readonly url: string;
  readonly inbox: ReceivedMail[];
  /** Messages refused so far (their senders got a 451). */
  readonly refused: number;
  /** Refuse the next `count` messages with 451 (a relay's temporary failure). */
  refuseNext(count: number): void;
  /** Stops listening (a relay that is down: connections are refused). */
  stop(): Promise<void>;
  /** Listens again, on the same port. */
  start(): Promise<void>;
  /** The messages sent to `address`, oldest first. */
  to(address: string): ReceivedMail[];
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const inbox: ReceivedMail[] = [];
  let toRefuse = 0;
  let refused = 0;
  let port = 0;
  let server: SMTPServer | undefined;
  const listen = async () => {
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          if (toRefuse > 0) {
            toRefuse -= 1;
            refused += 1;
            const error = new Error('Try again later') as Error & { responseCode: number };
            error.responseCode = 451;
            callback(error);
            return;
          }
          inbox.push({
            to: session.envelope.rcptTo.map((a) => a.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            acceptedAt: performance.now(),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      smtp.server.once('error', reject);
      smtp.listen(port, '127.0.0.1', () => {
        resolve();
      });
    });
    port = (smtp.server.address() as AddressInfo).port;
    server = smtp;
  };
  await listen();
  return {
    get port() {
      return port;
    },
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    inbox,
    get refused() {
      return refused;
    },
    refuseNext(count) {
      toRefuse = count;
    },
    async stop() {
      const smtp = server;
      server = undefined;
      if (smtp === undefined) return;
      await new Promise<void>((resolve) => {
        smtp.close(() => {
          resolve();
        });
      });
    },
    start: listen,
    to(address) {
      return inbox.filter((mail) => mail.to.includes(address));
    },
  };
}

/** A header of the message's top level (unfolded), or undefined. */
export function headerOf(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded
    .split(/\r?\n/)
    .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

function decode(body: string, encoding: string | undefined): string {
  const enc = (encoding ?? '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    return body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return body;
}

/** The parts of a multipart message: their headers (as raw text) and decoded bodies. */
export function partsOf(raw: string): { headers: string; body: string }[] {
  const boundary = /boundary="?([^";\s]+)"?/i.exec(headerOf(raw, 'content-type') ?? '')?.[1];
  if (boundary === undefined) return [];
  return raw
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((part) => {
      const [headers = '', ...rest] = part.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
      const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1];
      return { headers, body: decode(rest.join('\n\n').trimEnd(), encoding) };
    });
}

/** The decoded text of the .ics attachment, or undefined when there is none. */
export function icsOf(raw: string): string | undefined {
  return partsOf(raw).find(
    (part) => /content-type:\s*text\/calendar/i.test(part.headers) && /\.ics/.test(part.headers),
  )?.body;
}

/** The ICS form of an instant in UTC, as DTSTART carries it: 20261204T101500Z. */
export function icsUtc(at: Date | string): string {
  return new Date(at)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
