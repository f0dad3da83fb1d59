import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * A real nginx for tests, configured from deploy/nginx.conf itself: the sample operators deploy
 * is the one the multi-instance test runs, with only its addresses and file paths changed.
 */
const root = resolve(import.meta.dirname, '..');
export const nginxTemplatePath = join(root, 'deploy', 'nginx.conf');

/** The nginx binary (Debian's path first, then PATH), or undefined when nginx is not installed. */
export function nginxBinary(): string | undefined {
  if (existsSync('/usr/sbin/nginx')) return '/usr/sbin/nginx';
  const found = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

/** The compose host names of the two instances in the template, and their port. */
export const templateUpstreams = ['medcore-a:8000', 'medcore-b:8000'] as const;

export interface NginxConfOptions {
  /** Loopback port nginx listens on. */
  port: number;
  /** host:port of each instance, in the template's order (medcore-a, medcore-b). */
  upstreams: readonly [string, string];
  /** Directory for logs and temporary files. */
  prefix: string;
}

function replaceOnce(text: string, pattern: RegExp, replacement: string, what: string): string {
  const matches = text.match(new RegExp(pattern.source, pattern.flags + 'g'));
  if (matches?.length !== 1) {
    throw new Error(
      `deploy/nginx.conf: expected exactly one ${what}, found ${matches?.length ?? 0}`,
    );
  }
  return text.replace(pattern, replacement);
}

/**
 * deploy/nginx.conf with the listen line and the upstream servers pointed at loopback, the access
 * log written to a file, and temporary files kept under `prefix` (nginx's compiled-in paths need
 * root). Everything else (timeouts, retries, headers, the SSE location) is the template's.
 */
export function renderNginxConf(options: NginxConfOptions): string {
  let conf = readFileSync(nginxTemplatePath, 'utf8');
  conf = replaceOnce(
    conf,
    /^(\s*)listen 80;$/m,
    `$1listen 127.0.0.1:${options.port};`,
    '"listen 80;" line',
  );
  templateUpstreams.forEach((hostPort, index) => {
    conf = replaceOnce(
      conf,
      new RegExp(`^(\\s*)server ${hostPort} `, 'm'),
      `$1server ${options.upstreams[index] ?? ''} `,
      `"server ${hostPort}" line`,
    );
  });
  conf = replaceOnce(
    conf,
    /^(\s*)access_log \/dev\/stdout medcore;$/m,
    `$1access_log ${join(options.prefix, 'access.log')} medcore;`,
    '"access_log /dev/stdout medcore;" line',
  );
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `  ${kind}_temp_path ${join(options.prefix, 'temp', kind)};`)
    .join('\n');
  return replaceOnce(conf, /^http \{$/m, `http {\n${temp}`, '"http {" line');
}

/** Command-line arguments that keep the pid file and error log under `prefix` too. */
function nginxArgs(prefix: string, confFile: string): string[] {
  return [
    '-p',
    prefix,
    '-c',
    confFile,
    '-e',
    join(prefix, 'error.log'),
    '-g',
    `daemon off; pid ${join(prefix, 'nginx.pid')};`,
  ];
}

async function writeConf(options: NginxConfOptions): Promise<string> {
  await mkdir(join(options.prefix, 'temp'), { recursive: true });
  // Workers run as `nobody` when the tests run as root: they must reach the temporary files.
  await chmod(options.prefix, 0o755);
  const confFile = join(options.prefix, 'nginx.conf');
  await writeFile(confFile, renderNginxConf(options));
  return confFile;
}

/** `nginx -t` on the rendered configuration: the status and nginx's own words. */
export async function testNginxConf(
  binary: string,
  options: NginxConfOptions,
): Promise<{ ok: boolean; output: string }> {
  const confFile = await writeConf(options);
  const result = spawnSync(binary, ['-t', ...nginxArgs(options.prefix, confFile)], {
    encoding: 'utf8',
  });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

export interface RunningNginx {
  url: string;
  process: ChildProcess;
  accessLogFile: string;
  errorLogFile: string;
  stop: () => Promise<void>;
}

/** Starts nginx in the foreground; resolves once it accepts connections on its port. */
export async function startNginx(binary: string, options: NginxConfOptions): Promise<RunningNginx> {
  const confFile = await writeConf(options);
  const child = spawn(binary, nginxArgs(options.prefix, confFile), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const url = `http://127.0.0.1:${options.port}`;
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!running()) return;
    const exited = new Promise((done) => child.once('exit', done));
    // SIGTERM is nginx's fast shutdown: the master stops its workers, then itself.
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((done) => setTimeout(done, 3_000))]);
    if (running()) child.kill('SIGKILL');
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = readIfExists(join(options.prefix, 'error.log'));
      throw new Error(`nginx exited with ${child.exitCode}: ${stderr}${log}`);
    }
    try {
      await fetch(`${url}/`, { signal: AbortSignal.timeout(1_000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`nginx did not listen on ${url} within 10 s: ${stderr}`);
      }
      await new Promise((done) => setTimeout(done, 50));
    }
  }
  return {
    url,
    process: child,
    accessLogFile: join(options.prefix, 'access.log'),
    errorLogFile: join(options.prefix, 'error.log'),
    stop,
  };
}

export function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** One access-log line of the template's `medcore` format. */
export interface AccessLine {
  method: string;
  path: string;
  status: number;
  /** Every instance nginx tried for this request, in order (`host:port`). */
  upstreams: string[];
}

export function parseAccessLog(text: string): AccessLine[] {
  const lines: AccessLine[] = [];
  for (const line of text.split('\n')) {
    const match = /"(\w+) (\S+) [^"]*" (\d{3}) .* upstream=(.*?) upstream_status=/.exec(line);
    if (!match) continue;
    lines.push({
      method: match[1] ?? '',
      path: match[2] ?? '',
      status: Number(match[3]),
      // "a, b" when nginx moved on to the next server; "-" when none was tried.
      upstreams: (match[4] ?? '')
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '' && part !== '-'),
    });
  }
  return lines;
}
