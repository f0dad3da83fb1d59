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
 * The only place that listens. SIGTERM: readiness turns 503 at once and the lifecycle's
 * listeners (event streams) are told; requests are still served for SHUTDOWN_DELAY_MS so a load
 * balancer polling readiness stops sending first; then the server stops accepting, in-flight
 * requests finish, and the process exits, within SHUTDOWN_TIMEOUT_MS in all. SIGINT (Ctrl-C)
 * skips the delay. `database`: already being opened by the caller (cli.ts overlaps it with
 * loading the app).
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
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    app.lifecycle.beginShutdown();
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    const close = () => {
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          app.log.error({ err: error }, 'error during shutdown');
          process.exit(1);
        },
      );
    };
    setTimeout(close, signal === 'SIGTERM' ? config.shutdownDelayMs : 0);
  };
  process.once('SIGTERM', () => {
    shutdown('SIGTERM');
  });
  process.once('SIGINT', () => {
    shutdown('SIGINT');
  });
  return app;
}
