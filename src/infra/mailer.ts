import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Config } from '../config.js';

/** An attachment given as text (an .ics calendar file); never a path or a URL. */
export interface MailAttachment {
  filename: string;
  content: string;
  contentType: string;
}

/** Plain-text mail (reset links, reminders), optionally with text attachments; no HTML. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  attachments?: readonly MailAttachment[];
  /**
   * A Message-ID of our own, e.g. one per reminder: a message sent twice (a crash between the
   * relay's acceptance and our record of it) then carries the same id both times, which lets
   * mail systems that deduplicate by Message-ID drop the second.
   */
  messageId?: string;
}

export type MailerMode = 'smtp' | 'outbox' | 'memory';

export interface Mailer {
  readonly mode: MailerMode;
  /** Resolves once the message is handed over (SMTP 250, file written); rejects otherwise. */
  send(message: MailMessage): Promise<void>;
  /** Memory mode (tests) keeps every message here, oldest first; empty in the other modes. */
  readonly sent: readonly MailMessage[];
  close(): void;
}

export type MailerOptions = Pick<Config, 'smtpUrl' | 'emailFrom' | 'dataDir'> & {
  /** SMTP connect/greeting limit; a few seconds so a dead relay never holds work for minutes. */
  timeoutMs?: number;
};

// Memory mode exists for tests; the cap keeps a long fuzz run from growing without bound.
const MEMORY_CAP = 1_000;

type Nodemailer = typeof import('nodemailer');
let nodemailer: Promise<Nodemailer> | undefined;

/**
 * A transport made on first use: nodemailer (~13 MB) loads when the first message is sent, not
 * when the service starts (most requests never send mail). `close` releases it if it was made.
 */
function lazyTransport(make: (module: Nodemailer) => Transporter) {
  let transport: Promise<Transporter> | undefined;
  return {
    get(): Promise<Transporter> {
      transport ??= (nodemailer ??= import('nodemailer')).then(make);
      return transport;
    },
    close(): void {
      transport?.then(
        (made) => {
          made.close();
        },
        () => undefined,
      );
    },
  };
}

/**
 * SMTP when SMTP_URL is set; otherwise development mode writes each message as an .eml file into
 * DATA_DIR/outbox (or keeps it in memory when DATA_DIR is `memory://`). Nothing here logs: the
 * messages carry reset tokens, so neither bodies nor addresses may reach the logs.
 */
export function createMailer(options: MailerOptions): Mailer {
  if (options.smtpUrl !== undefined) return smtpMailer(options, options.smtpUrl);
  if (options.dataDir.startsWith('memory://')) return memoryMailer();
  return outboxMailer(options, join(resolve(options.dataDir), 'outbox'));
}

/**
 * Nodemailer reads options from the URL's query (e.g. `?requireTLS=true`) and lets them win over
 * ours; logging switches are dropped so no URL can make it print SMTP traffic (message data).
 */
function withoutLogging(url: string): string {
  const parsed = new URL(url);
  for (const key of ['logger', 'debug', 'transactionLog']) parsed.searchParams.delete(key);
  return parsed.toString();
}

function smtpMailer(options: MailerOptions, url: string): Mailer {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const smtpUrl = withoutLogging(url);
  const transport = lazyTransport(({ createTransport }) =>
    createTransport({
      url: smtpUrl,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs * 2,
      dnsTimeout: timeoutMs,
      // Nodemailer's own logger would print SMTP traffic, message data included.
      logger: false,
      debug: false,
      // We only ever send literal text; refuse any content that would read a file or fetch a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
    }),
  );
  return {
    mode: 'smtp',
    sent: [],
    async send(message) {
      await (await transport.get()).sendMail(envelope(options, message));
    },
    close() {
      transport.close();
    },
  };
}

/** The nodemailer message: attachments are copied, as nodemailer takes mutable arrays. */
function envelope(options: MailerOptions, message: MailMessage) {
  const { attachments, ...rest } = message;
  return {
    from: options.emailFrom,
    ...rest,
    ...(attachments === undefined ? {} : { attachments: attachments.map((a) => ({ ...a })) }),
  };
}

/** Composes the real MIME message (headers, encoding) without sending it anywhere. */
function composer() {
  return lazyTransport(({ createTransport }) =>
    createTransport({
      streamTransport: true,
      buffer: true,
      newline: 'unix',
      disableFileAccess: true,
      disableUrlAccess: true,
    }),
  );
}

function outboxMailer(options: MailerOptions, dir: string): Mailer {
  const compose = composer();
  return {
    mode: 'outbox',
    sent: [],
    async send(message) {
      const transport = await compose.get();
      const info = (await transport.sendMail(envelope(options, message))) as {
        message: Buffer;
      };
      // Owner-only: the files hold reset tokens. Server-generated names, never from input.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const name = `${stamp}-${randomBytes(6).toString('hex')}.eml`;
      await writeFile(join(dir, name), info.message, { mode: 0o600, flag: 'wx' });
    },
    close() {
      compose.close();
    },
  };
}

function memoryMailer(): Mailer {
  const sent: MailMessage[] = [];
  return {
    mode: 'memory',
    sent,
    send(message) {
      sent.push({ ...message });
      if (sent.length > MEMORY_CAP) sent.shift();
      return Promise.resolve();
    },
    close() {
      // Nothing to release.
    },
  };
}
