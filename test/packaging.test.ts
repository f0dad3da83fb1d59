import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { nginxBinary, templateUpstreams, testNginxConf } from './nginx-support.js';
import {
  dockerfileArg,
  dockerfileStages,
  imageCommand,
  imageHealthcheck,
  root,
  runtimeStage,
} from './packaging-support.js';

/**
 * The packaging (Dockerfile, docker-compose.yml, deploy/nginx.conf, CI workflows) as far as it
 * can be checked without a Docker daemon, which this machine does not have: the files parse and
 * say what they must, nginx accepts the configuration, and compose validates its file when a
 * compose CLI is installed. The image's start command and health check are run for real by the
 * multi-instance test.
 */
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const temp: string[] = [];
afterAll(() => {
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const medcoreServices = templateUpstreams.map((hostPort) => hostPort.split(':')[0] ?? '');

describe('Dockerfile', () => {
  it('builds in one stage and ships another, from a Node 20 image', () => {
    const stages = dockerfileStages();
    expect(stages.map((stage) => stage.name)).toEqual(['build', 'runtime']);
    expect(dockerfileArg('NODE_IMAGE')).toMatch(/^node:20(\.\d+)*-bookworm-slim$/);
    const build = stages[0]?.instructions.map((i) => `${i.keyword} ${i.args}`) ?? [];
    expect(build).toContain('RUN npm ci --no-audit --no-fund --ignore-scripts');
    expect(build).toContain('RUN npm run build -- --template');
  });

  it('installs production dependencies only, and none of them needs an install script', () => {
    const runs = runtimeStage().instructions.filter((i) => i.keyword === 'RUN');
    expect(runs.some((i) => /npm ci --omit=dev\b.*--ignore-scripts/.test(i.args))).toBe(true);
    // --ignore-scripts is only safe while no production package runs a script when installed.
    const lock = JSON.parse(read('package-lock.json')) as {
      packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }>;
    };
    const scripted = Object.entries(lock.packages)
      .filter(([, pkg]) => pkg.hasInstallScript === true && pkg.dev !== true)
      .map(([name]) => name);
    expect(scripted).toEqual([]);
  });

  it('runs as a non-root user, listens on every interface, with the start command of the tests', () => {
    const runtime = runtimeStage().instructions;
    const user = runtime.filter((i) => i.keyword === 'USER').at(-1)?.args ?? 'root';
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const userAt = runtime.findIndex((i) => i.keyword === 'USER');
    expect(userAt).toBeLessThan(runtime.findIndex((i) => i.keyword === 'CMD'));
    const env = runtime.filter((i) => i.keyword === 'ENV').map((i) => i.args);
    expect(env.join(' ')).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(env.join(' ')).toMatch(/\bNODE_ENV=production\b/);
    // The multi-instance test spawns exactly this (test/multi-instance-support.ts), as does
    // `npm start` after its build.
    expect(imageCommand()).toEqual(['node', 'dist/cli.js', 'serve']);
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
      .start;
    expect(start).toBe(imageCommand().join(' '));
  });

  it('checks its health with node against /health (no curl in a slim image)', () => {
    const { options, command } = imageHealthcheck();
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain("'/health'");
    expect(Object.keys(options).sort()).toEqual(['interval', 'retries', 'start-period', 'timeout']);
  });

  it('keeps secrets, data and local builds out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    for (const entry of ['.env', 'node_modules', 'data', 'dist', '.git']) {
      expect(ignored).toContain(entry);
    }
  });
});

describe('docker-compose.yml', () => {
  it('has PostgreSQL, Redis, two MedCore instances and nginx, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['medcore-a', 'medcore-b', 'nginx', 'postgres', 'redis'].sort(),
    );
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.healthcheck?.test[0], name).toBe('CMD');
    }
    expect(compose.services.nginx?.volumes).toContain(
      './deploy/nginx.conf:/etc/nginx/nginx.conf:ro',
    );
    expect(compose.services.nginx?.depends_on).toEqual(
      Object.fromEntries(medcoreServices.map((name) => [name, { condition: 'service_healthy' }])),
    );
    // Only nginx is reachable from outside, and only on loopback.
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'nginx') expect(service.ports).toEqual(['127.0.0.1:8080:80']);
      else expect(service.ports, name).toBeUndefined();
    }
  });

  it('configures each instance for PostgreSQL, Redis, a proxy and secrets it does not hold', () => {
    const knownKeys = new Set(
      [...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]),
    );
    for (const name of medcoreServices) {
      const service = compose.services[name];
      const env = service?.environment ?? {};
      expect(env.DATABASE_URL).toMatch(
        /^postgres:\/\/medcore:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/medcore$/,
      );
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(env.TRUST_PROXY).toBe('true');
      expect(env.NODE_ENV).toBe('production');
      expect(env.HOST).toBe('0.0.0.0');
      // The port nginx's upstream names.
      expect(`${name}:${env.PORT}`).toBe(templateUpstreams[medcoreServices.indexOf(name)]);
      // Required from .env: compose refuses to start without them; no default secret exists.
      expect(env.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?.+\}$/);
      expect(env.MFA_ENCRYPTION_KEY).toMatch(/^\$\{MFA_ENCRYPTION_KEY:\?.+\}$/);
      // Every key is one MedCore reads (a typo would be ignored silently).
      expect(Object.keys(env).filter((key) => !knownKeys.has(key))).toEqual([]);
      expect(service?.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
      expect(service?.healthcheck?.test.join(' ')).toContain('/health/ready');
    }
  });

  it('is valid for the compose CLI, when one is installed (it needs no daemon for `config`)', (ctx) => {
    const secrets = {
      POSTGRES_PASSWORD: 'p',
      JWT_SECRET: 'j'.repeat(48),
      MFA_ENCRYPTION_KEY: 'm'.repeat(48),
    };
    // `docker compose` (v2) when the plugin is there, else the standalone `docker-compose`.
    const cli = (
      [
        ['docker', ['compose']],
        ['docker-compose', []],
      ] as const
    ).find(
      ([command, prefix]) =>
        spawnSync(command, [...prefix, 'version'], { encoding: 'utf8' }).status === 0,
    );
    const run = (env: NodeJS.ProcessEnv) =>
      cli === undefined
        ? undefined
        : spawnSync(cli[0], [...cli[1], 'config', '--quiet'], {
            cwd: root,
            env: { PATH: process.env.PATH, ...env },
            encoding: 'utf8',
          });
    const valid = run(secrets);
    if (valid === undefined) {
      ctx.skip('no compose CLI installed (apt-get install docker-compose)');
      return;
    }
    expect(valid.status, valid.stderr).toBe(0);
    // Without the secrets compose refuses, naming what to set.
    const missing = run({});
    expect(missing?.status).not.toBe(0);
    expect(missing?.stderr).toMatch(/POSTGRES_PASSWORD|JWT_SECRET|MFA_ENCRYPTION_KEY/);
  });
});

describe('deploy/nginx.conf', () => {
  it('passes `nginx -t` with the upstreams on loopback (when nginx is installed)', async (ctx) => {
    const binary = nginxBinary();
    if (binary === undefined) {
      ctx.skip('nginx is not installed (apt-get install nginx)');
      return;
    }
    const prefix = mkdtempSync(join(tmpdir(), 'medcore-nginx-t-'));
    temp.push(prefix);
    const result = await testNginxConf(binary, {
      port: 18_080,
      upstreams: ['127.0.0.1:18001', '127.0.0.1:18002'],
      prefix,
    });
    expect(result.ok, result.output).toBe(true);
  });

  it('forwards the client address and scheme, streams SSE, and never retries a sent POST', () => {
    const conf = read('deploy/nginx.conf').replace(/#.*$/gm, '');
    expect(conf).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;/);
    expect(conf).toMatch(/proxy_set_header X-Forwarded-Proto \$scheme;/);
    const sse = /location = \/api\/v1\/appointments\/events \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    expect(sse).toMatch(/proxy_buffering off;/);
    expect(sse).toMatch(/proxy_read_timeout 1h;/);
    const nextUpstream = [...conf.matchAll(/proxy_next_upstream ([^;]+);/g)].map((m) => m[1]);
    expect(nextUpstream).toEqual(['error timeout']);
    expect(conf).not.toContain('non_idempotent');
  });
});

describe('CI workflows', () => {
  const dir = join(root, '.github', 'workflows');
  const files = readdirSync(dir).filter((file) => /\.ya?ml$/.test(file));
  const workflows = files.map((file) => ({
    file,
    doc: parse(readFileSync(join(dir, file), 'utf8')) as {
      on?: unknown;
      jobs?: Record<
        string,
        {
          steps?: { run?: string; uses?: string }[];
          strategy?: { matrix?: { node?: unknown[] } };
          services?: Record<string, unknown>;
        }
      >;
    },
  }));
  const jobs = workflows.flatMap(({ doc }) => Object.values(doc.jobs ?? {}));
  const commands = jobs
    .flatMap((job) => job.steps ?? [])
    .map((step) => step.run ?? step.uses ?? '');

  it('every workflow parses as YAML, with triggers and jobs', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const { file, doc } of workflows) {
      expect(doc.on, file).toBeDefined();
      expect(Object.keys(doc.jobs ?? {}).length, file).toBeGreaterThan(0);
    }
  });

  it('tests on Node 20 and 24 against PostgreSQL and Redis service containers', () => {
    const testJob = jobs.find((job) => job.steps?.some((step) => step.run?.includes('npm test')));
    expect(testJob?.strategy?.matrix?.node).toEqual([20, 24]);
    expect(Object.keys(testJob?.services ?? {}).sort()).toEqual(['postgres', 'redis']);
  });

  it('lints, checks formatting and types, audits dependencies and builds the image', () => {
    for (const command of [
      'npm run lint',
      'npm run format:check',
      'npm run typecheck',
      'npm audit --omit=dev',
    ]) {
      expect(
        commands.some((run) => run.includes(command)),
        command,
      ).toBe(true);
    }
    expect(commands.some((run) => run.startsWith('docker/build-push-action'))).toBe(true);
  });
});
