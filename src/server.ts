import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';

/**
 * The only place that listens. SIGTERM: readiness turns 503 at once and the lifecycle's
 * listeners (event streams) are told; requests are still served for SHUTDOWN_DELAY_MS so a load
 * balancer polling readiness stops sending first; then the server stops accepting, in-flight
 * requests finish, and the process exits, within SHUTDOWN_TIMEOUT_MS in all. SIGINT (Ctrl-C)
 * skips the delay.
 */
export async function startServer(config: Config): Promise<FastifyInstance> {
  const app = await buildApp(config);
  await app.listen({ host: config.host, port: config.port });

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
