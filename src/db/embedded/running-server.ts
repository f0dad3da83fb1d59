import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

/**
 * A server on an embedded DATA_DIR owns PGlite (one process only, data-dir-lock.ts) and lets
 * local tools in through its socket: the CLI (seed, create-admin, backup, migrate) and psql
 * connect to it instead of opening the directory. The socket lives in DATA_DIR/run (0700, the
 * socket 0600) unless that path is too long for a unix socket, when host.ts puts it in a
 * temporary directory; either way DATA_DIR/run/socket-dir names the directory.
 */
export function runDir(dataDir: string): string {
  return join(dataDir, 'run');
}

const SOCKET_NAME = '.s.PGSQL.5432';
const pointer = (dataDir: string) => join(runDir(dataDir), 'socket-dir');

/** Written once the server's database listens; removed when it closes. */
export function advertiseSocket(dataDir: string, socketDir: string): void {
  mkdirSync(runDir(dataDir), { recursive: true, mode: 0o700 });
  chmodSync(runDir(dataDir), 0o700);
  writeFileSync(pointer(dataDir), `${socketDir}\n`, { mode: 0o600 });
}

export function withdrawSocket(dataDir: string): void {
  rmSync(pointer(dataDir), { force: true });
}

/**
 * The socket directory of a server running on this data directory, if one answers. A pointer
 * left by a killed server names a socket nobody listens on: that is no server.
 */
export async function runningServerSocket(dataDir: string): Promise<string | undefined> {
  let dir: string;
  try {
    dir = readFileSync(pointer(dataDir), 'utf8').trim();
  } catch {
    return undefined;
  }
  const socketPath = join(dir, SOCKET_NAME);
  if (dir === '' || !existsSync(socketPath)) return undefined;
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const done = (answer: string | undefined) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2_000, () => {
      done(undefined);
    });
    socket.once('connect', () => {
      done(dir);
    });
    socket.once('error', () => {
      done(undefined);
    });
  });
}
