import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { seedOnFirstRun } from './seed/first-run.js';

/** The port is taken: said in one line by the CLI (exit 1), naming the port. */
export class PortInUseError extends Error {
  constructor(host: string, port: number) {
    super(
      `port ${port} on ${host} is already in use (another MedCore or another program?): ` +
        'stop it or set PORT to a free port',
    );
    this.name = 'PortInUseError';
  }
}

/**
 * The only place that listens. SIGTERM/SIGINT: readiness turns 503 at once (so a load balancer
 * stops sending), in-flight requests finish, and the process exits within SHUTDOWN_TIMEOUT_MS.
 * `database`: already being opened by the caller (cli.ts overlaps it with loading the app).
 */
export async function startServer(
  config: Config,
  options: { database?: Promise<Database> } = {},
): Promise<FastifyInstance> {
  const app = await buildApp(config, options.database ? { database: options.database } : {});
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close().catch(() => undefined);
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      throw new PortInUseError(config.host, config.port);
    }
    throw error;
  }
  // After listening: /health answers while the demo practice is being made.
  void app.ctx.background.run(
    async () => {
      await seedOnFirstRun(app.ctx, app.log);
    },
    (error) => {
      app.log.error({ err: error }, 'could not create the demo practice');
    },
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.lifecycle.shuttingDown = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => {
    shutdown('SIGTERM');
  });
  process.once('SIGINT', () => {
    shutdown('SIGINT');
  });
  return app;
}
