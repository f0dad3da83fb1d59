import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../../db/schema/audit.js';
import { passwordResetTokens } from '../../../db/schema/security.js';
import { users } from '../../../db/schema/users.js';
import { sha256Hex } from '../../../lib/crypto.js';
import {
  bearer,
  buildTestApp,
  createUser,
  login,
  problemOf,
  testClock,
  type TestApp,
  type TestUser,
} from '../../../../test/helpers.js';

/**
 * Forgot/reset through HTTP, with the mail going over real SMTP to a server run in-process
 * (127.0.0.1, random port): the token is read out of the message exactly as a user would.
 */

interface Received {
  to: string[];
  raw: string;
}

const inbox: Received[] = [];
const logLines: string[] = [];
const issuedTokens: string[] = [];
const clock = testClock();
let smtp: SMTPServer;
let t: TestApp;

async function startSmtp(): Promise<number> {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Lets one test see what a failed delivery logs.
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('bounce')) {
        callback(new Error(`550 mailbox ${address.address} unavailable`));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        inbox.push({
          to: session.envelope.rcptTo.map((a) => a.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.server.once('error', reject);
    smtp.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  return (smtp.server.address() as AddressInfo).port;
}

beforeAll(async () => {
  const port = await startSmtp();
  t = await buildTestApp(
    { SMTP_URL: `smtp://127.0.0.1:${port}`, LOG_LEVEL: 'info', PUBLIC_URL: 'https://medcore.test' },
    // The production logger (with its redaction) into a buffer, to prove no token is logged.
    { clock, logger: undefined, logStream: { write: (line) => logLines.push(line) } },
  );
});
afterAll(async () => {
  await t.close();
  await new Promise<void>((resolve) => {
    smtp.close(() => {
      resolve();
    });
  });
});

function post(url: string, payload: unknown) {
  return t.app.inject({ method: 'POST', url: `/api/v1/auth${url}`, payload: payload as object });
}

/** Asks for a reset and waits until the background work (lookup, token, SMTP) is done. */
async function forgot(email: string) {
  const res = await post('/password/forgot', { email });
  await t.app.ctx.background.drain();
  return res;
}

function quotedPrintableDecoded(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The reset token of the last message sent to `email`, taken from the link in its body. */
function tokenFor(email: string): string {
  const message = inbox.filter((m) => m.to.includes(email)).at(-1);
  if (!message) throw new Error(`no message to ${email}`);
  const body = quotedPrintableDecoded(message.raw);
  const match = /https:\/\/medcore\.test\/reset-password\?token=([A-Za-z0-9_-]{43})\b/.exec(body);
  if (!match?.[1]) throw new Error('no reset link in the message');
  // The bare code is in the message too, on a line of its own.
  expect(body.split(/\r?\n/)).toContain(match[1]);
  issuedTokens.push(match[1]);
  return match[1];
}

async function forgotAndReadToken(user: TestUser): Promise<string> {
  const res = await forgot(user.email);
  expect(res.statusCode).toBe(202);
  return tokenFor(user.email);
}

function reset(token: string, newPassword = 'a fresh start 2026') {
  return post('/password/reset', { token, new_password: newPassword });
}

function auditRows(action: string, requestId?: string) {
  return t.app.ctx.db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.action, action),
        requestId === undefined ? undefined : eq(auditLog.requestId, requestId),
      ),
    );
}

describe('forgot', () => {
  it('answers 202 with one fixed body and mails a link to an existing account', async () => {
    const user = await createUser(t.app);
    const res = await forgot(user.email);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', message: expect.any(String) as string });
    const message = inbox.filter((m) => m.to.includes(user.email));
    expect(message).toHaveLength(1);
    expect(message[0]?.raw).toMatch(/^Subject: Reset your MedCore password/m);
    tokenFor(user.email);
  });

  it('gives an unknown address the identical answer and sends nothing', async () => {
    const known = await createUser(t.app);
    const before = inbox.length;
    const a = await forgot(known.email);
    const b = await forgot('nobody-here@example.test');
    expect(b.statusCode).toBe(a.statusCode);
    expect(b.body).toBe(a.body);
    expect(b.headers['content-type']).toBe(a.headers['content-type']);
    expect(inbox.length).toBe(before + 1);
    // Audited without an actor, and the typed address is stored nowhere.
    const [row] = await auditRows('auth.password_forgot', b.headers['x-request-id'] as string);
    expect(row).toMatchObject({ actorId: null, outcome: 'failure' });
    expect(JSON.stringify(row)).not.toContain('nobody-here');
  });

  it('matches the address case-insensitively', async () => {
    const user = await createUser(t.app);
    await forgot(user.email.toUpperCase());
    expect(inbox.some((m) => m.to.includes(user.email))).toBe(true);
  });

  it('records the account as the actor of an audited request', async () => {
    const user = await createUser(t.app);
    const res = await forgot(user.email);
    const rows = await auditRows('auth.password_forgot', res.headers['x-request-id'] as string);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actorId: user.id, outcome: 'success', resourceId: user.id });
    expect(JSON.stringify(rows[0])).not.toContain(user.email);
  });

  it('sends nothing to a deactivated account', async () => {
    const user = await createUser(t.app);
    await t.app.ctx.db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
    const res = await forgot(user.email);
    expect(res.statusCode).toBe(202);
    expect(inbox.some((m) => m.to.includes(user.email))).toBe(false);
  });

  it('stops mailing one account after three live tokens', async () => {
    const user = await createUser(t.app);
    for (let i = 0; i < 5; i++) expect((await forgot(user.email)).statusCode).toBe(202);
    expect(inbox.filter((m) => m.to.includes(user.email))).toHaveLength(3);
  });

  it('stores only the SHA-256 of the token', async () => {
    const user = await createUser(t.app);
    const token = await forgotAndReadToken(user);
    const rows = await t.app.ctx.db
      .select()
      .from(passwordResetTokens)
      .where(eq(passwordResetTokens.userId, user.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.tokenHash).toBe(sha256Hex(token));
    expect(JSON.stringify(rows)).not.toContain(token);
    const ttl = (rows[0]?.expiresAt.getTime() ?? 0) - (rows[0]?.createdAt.getTime() ?? 0);
    expect(ttl).toBe(30 * 60 * 1000);
  });

  it('logs a failed delivery without the address or the token', async () => {
    const user = await createUser(t.app);
    const bounce = `bounce-${user.username}@example.test`;
    await t.app.ctx.db.update(users).set({ email: bounce }).where(eq(users.id, user.id));
    const res = await forgot(bounce);
    expect(res.statusCode).toBe(202);
    const failure = logLines.find((line) => line.includes('password reset: background step'));
    expect(failure).toBeDefined();
    expect(failure).toContain('"stage":"email"');
    expect(failure).not.toContain(bounce);
    expect(failure).not.toContain(user.username);
  });

  it('refuses a malformed body with a 400 problem', async () => {
    for (const payload of [{}, { email: 'not-an-email' }, { email: 'a@b.test', extra: 1 }]) {
      const res = await post('/password/forgot', payload);
      expect(res.statusCode).toBe(400);
      expect(problemOf(res).code).toBe('validation_failed');
    }
  });
});

describe('reset', () => {
  it('sets the new password and ends every session of the account', async () => {
    const user = await createUser(t.app);
    const second = await login(t.app, user.email, user.password);
    const token = await forgotAndReadToken(user);

    const res = await reset(token, 'a fresh start 2026');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');

    const oldLogin = await post('/login', { email: user.email, password: user.password });
    expect(oldLogin.statusCode).toBe(401);
    await login(t.app, user.email, 'a fresh start 2026');

    for (const access of [user.accessToken, second.access_token]) {
      const me = await t.app.inject({ url: '/api/v1/users/me', headers: bearer(access) });
      expect(me.statusCode).toBe(401);
    }
    for (const refresh of [user.refreshToken, second.refresh_token]) {
      expect((await post('/refresh', { refresh_token: refresh })).statusCode).toBe(401);
    }
  });

  it('accepts a token once', async () => {
    const user = await createUser(t.app);
    const token = await forgotAndReadToken(user);
    expect((await reset(token)).statusCode).toBe(204);
    const again = await reset(token, 'yet another passphrase 7');
    expect(again.statusCode).toBe(401);
    expect(problemOf(again).code).toBe('invalid_token');
    await login(t.app, user.email, 'a fresh start 2026');
  });

  it('lets exactly one of two parallel resets win', async () => {
    const user = await createUser(t.app);
    const token = await forgotAndReadToken(user);
    const results = await Promise.all([
      reset(token, 'first parallel pass 1'),
      reset(token, 'second parallel pass 2'),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([204, 401]);
  });

  it('refuses an unknown token with the same problem', async () => {
    const res = await reset('x'.repeat(43));
    expect(res.statusCode).toBe(401);
    expect(problemOf(res)).toMatchObject({ code: 'invalid_token', status: 401 });
  });

  it('applies the password policy and keeps the token usable', async () => {
    const user = await createUser(t.app);
    const token = await forgotAndReadToken(user);
    const common = await reset(token, 'password1');
    expect(common.statusCode).toBe(400);
    expect(problemOf(common).errors).toEqual([
      { field: 'body.new_password', message: 'is too common' },
    ]);
    const short = await reset(token, 'short');
    expect(short.statusCode).toBe(400);
    expect((await reset(token)).statusCode).toBe(204);
  });

  it('retires the other outstanding tokens and clears a lockout', async () => {
    const user = await createUser(t.app);
    const first = await forgotAndReadToken(user);
    const second = await forgotAndReadToken(user);
    await t.app.ctx.db
      .update(users)
      .set({
        failedLoginCount: 4,
        failedLoginWindowStart: new Date(),
        lockedUntil: new Date(Date.now() + 3_600_000),
        lockoutCount: 2,
      })
      .where(eq(users.id, user.id));

    expect((await reset(second)).statusCode).toBe(204);
    expect((await reset(first, 'an older link try 3')).statusCode).toBe(401);
    const [row] = await t.app.ctx.db.select().from(users).where(eq(users.id, user.id));
    expect(row).toMatchObject({
      failedLoginCount: 0,
      failedLoginWindowStart: null,
      lockedUntil: null,
      lockoutCount: 0,
    });
    expect(row?.passwordChangedAt).not.toBeNull();
    // The lock no longer holds: the new password signs in at once.
    await login(t.app, user.email, 'a fresh start 2026');
  });

  it('a password change or an admin-set password retires outstanding reset links', async () => {
    const user = await createUser(t.app);
    const link = await forgotAndReadToken(user);
    const changed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password/change',
      headers: bearer(user.accessToken),
      payload: { current_password: user.password, new_password: 'a changed passphrase 7' },
    });
    expect(changed.statusCode, changed.body).toBe(204);
    expect((await reset(link)).statusCode).toBe(401);
    await login(t.app, user.email, 'a changed passphrase 7');

    const admin = await createUser(t.app, 'admin');
    const second = await forgotAndReadToken(user);
    const current = await t.app.inject({
      url: `/api/v1/users/${user.id}`,
      headers: bearer(admin.accessToken),
    });
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: { ...bearer(admin.accessToken), 'if-match': current.headers.etag as string },
      payload: { password: 'an admin chosen phrase 8' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect((await reset(second)).statusCode).toBe(401);
    await login(t.app, user.email, 'an admin chosen phrase 8');
  });

  it('writes the audit row of the change, and one for a refused token', async () => {
    const user = await createUser(t.app);
    const token = await forgotAndReadToken(user);
    const ok = await reset(token);
    const [done] = await auditRows('auth.password_reset', ok.headers['x-request-id'] as string);
    expect(done).toMatchObject({ actorId: user.id, outcome: 'success', resourceId: user.id });
    expect(done?.details).toMatchObject({ sessions_ended: 1 });

    const replay = await reset(token);
    const [refused] = await auditRows(
      'auth.password_reset',
      replay.headers['x-request-id'] as string,
    );
    expect(refused).toMatchObject({ actorId: user.id, outcome: 'failure' });
    expect(JSON.stringify([done, refused])).not.toContain(token);
  });

  it('refuses a malformed body with a 400 problem', async () => {
    for (const payload of [
      {},
      { token: 'abc' },
      { token: 'abc', new_password: 'a fresh start 2026', extra: true },
      { token: 'a\u0000b', new_password: 'a fresh start 2026' },
      { token: 'x'.repeat(201), new_password: 'a fresh start 2026' },
    ]) {
      const res = await post('/password/reset', payload);
      expect(res.statusCode).toBe(400);
      expect(problemOf(res).code).toBe('validation_failed');
    }
  });

  // Last: it moves the shared clock forward.
  it('refuses an expired token', async () => {
    const user = await createUser(t.app);
    const token = await forgotAndReadToken(user);
    clock.advance(30 * 60 * 1000 + 1_000);
    const res = await reset(token);
    expect(res.statusCode).toBe(401);
    expect(problemOf(res).code).toBe('invalid_token');
    await login(t.app, user.email, user.password);
  });
});

describe('logs', () => {
  it('never contain a reset token', () => {
    expect(issuedTokens.length).toBeGreaterThan(5);
    const all = logLines.join('\n');
    for (const token of issuedTokens) expect(all).not.toContain(token);
  });
});
