import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailer } from './mailer.js';

const emailFrom = 'MedCore <no-reply@medcore.local>';
const message = {
  to: 'ann@example.test',
  subject: 'Reset your MedCore password',
  text: 'Your code:\nsecret-token-123\n',
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('outbox mode (no SMTP_URL)', () => {
  it('writes each message as an owner-only .eml file in DATA_DIR/outbox', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'medcore-mail-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const mailer = createMailer({ smtpUrl: undefined, emailFrom, dataDir });
    expect(mailer.mode).toBe('outbox');

    await mailer.send(message);
    await mailer.send({ ...message, to: 'bob@example.test' });
    mailer.close();

    const files = (await readdir(join(dataDir, 'outbox'))).sort();
    expect(files).toHaveLength(2);
    for (const file of files) expect(file).toMatch(/^[\w-]+\.eml$/);
    const contents = await Promise.all(
      files.map((file) => readFile(join(dataDir, 'outbox', file), 'utf8')),
    );
    const ann = contents.find((text) => text.includes('To: ann@example.test'));
    expect(ann).toMatch(/^From: MedCore <no-reply@medcore\.local>$/m);
    expect(ann).toMatch(/^Subject: Reset your MedCore password$/m);
    expect(ann).toContain('secret-token-123');
    if (process.platform !== 'win32') {
      expect((await stat(join(dataDir, 'outbox', files[0] ?? ''))).mode & 0o777).toBe(0o600);
    }
    expect(mailer.sent).toEqual([]);
  });
});

describe('memory mode (DATA_DIR=memory://)', () => {
  it('keeps messages in an array and touches no disk', async () => {
    const mailer = createMailer({ smtpUrl: undefined, emailFrom, dataDir: 'memory://' });
    expect(mailer.mode).toBe('memory');
    await mailer.send(message);
    expect(mailer.sent).toEqual([message]);
  });
});

describe('SMTP mode', () => {
  it('gives up on a server that accepts but never greets, within the timeout', async () => {
    // A TCP listener that never says "220": the greeting timeout must end the attempt.
    const server: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const mailer = createMailer({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      emailFrom,
      dataDir: 'memory://',
      timeoutMs: 300,
    });
    expect(mailer.mode).toBe('smtp');
    const started = Date.now();
    await expect(mailer.send(message)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(Date.now() - started).toBeLessThan(3_000);
    mailer.close();
  });
});
