import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVirusScanner } from '../src/infra/scan/clamav.js';

/**
 * A real clamd for tests (Debian package clamav-daemon; CI installs it). Official signatures are
 * not downloaded: the daemon loads a database written here that knows only the EICAR test
 * string, as an MD5 of the whole file (.hdb) and as a body pattern found anywhere (.ndb), so it
 * starts in well under a second.
 */

export const clamdPath = '/usr/sbin/clamd';
export const clamdAvailable = existsSync(clamdPath);

/** Why clamd tests are skipped, or undefined when they can run. */
export const clamdSkipReason = clamdAvailable
  ? undefined
  : `${clamdPath} is missing (apt-get install clamav-daemon)`;

/** The EICAR anti-virus test string: harmless, and detected by every scanner. */
export const eicar = Buffer.from(
  'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*',
  'latin1',
);

export interface TestClamd {
  /** Unix socket path, usable as CLAMAV_SOCKET. */
  socket: string;
  /** `tcp://127.0.0.1:<port>`, also usable as CLAMAV_SOCKET. */
  tcp: string;
  /** Resolves once the daemon has exited (stopped by stop() or otherwise). */
  exited: Promise<void>;
  /** Stops the daemon (SIGTERM, SIGKILL after 5 s) and removes its directory; idempotent. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Starts clamd on a unix socket and a free loopback TCP port, resolving once it answers PING.
 * `StreamMaxLength` is 1 MB so that the size-limit reply can be provoked cheaply.
 */
export async function startTestClamd(): Promise<TestClamd> {
  const dir = mkdtempSync(join(tmpdir(), 'medcore-clamd-'));
  const db = join(dir, 'db');
  mkdirSync(db);
  const md5 = createHash('md5').update(eicar).digest('hex');
  writeFileSync(join(db, 'medcore-test.hdb'), `${md5}:${eicar.length}:MedCore.Test.EICAR-File\n`);
  writeFileSync(
    join(db, 'medcore-test.ndb'),
    `MedCore.Test.EICAR-Body:0:*:${eicar.toString('hex')}\n`,
  );
  const socket = join(dir, 'clamd.sock');
  const port = await freePort();
  const config = [
    `LocalSocket ${socket}`,
    `TCPSocket ${port}`,
    'TCPAddr 127.0.0.1',
    'Foreground yes',
    `DatabaseDirectory ${db}`,
    `LogFile ${join(dir, 'clamd.log')}`,
    'StreamMaxLength 1M',
    // Without it a second scan of the same bytes may be answered from clamd's cache.
    'DisableCache yes',
    'SelfCheck 3600',
  ];
  writeFileSync(join(dir, 'clamd.conf'), `${config.join('\n')}\n`);
  const child = spawn(clamdPath, ['--config-file', join(dir, 'clamd.conf')], { stdio: 'ignore' });
  // A test process that dies without its afterAll must not leave a daemon behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else
      child.once('exit', () => {
        resolve();
      });
  });
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killed);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const scanner = createVirusScanner({ socket, timeoutMs: 1_000 });
  const started = Date.now();
  try {
    for (;;) {
      if (child.exitCode !== null) {
        const log = join(dir, 'clamd.log');
        const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
        throw new Error(`clamd exited with ${child.exitCode}:\n${text}`);
      }
      try {
        await scanner.ping();
        break;
      } catch {
        if (Date.now() - started > 20_000) throw new Error('clamd did not start within 20 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { socket, tcp: `tcp://127.0.0.1:${port}`, exited, stop };
}
