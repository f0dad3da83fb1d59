import type { Logger } from 'drizzle-orm/logger';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { openDatabase, type Database } from './db/client.js';
import { createBackgroundTasks } from './lib/background.js';
import { systemClock, type Clock } from './lib/clock.js';
import { loggerOptions } from './logger.js';
import { ProblemSchema } from './lib/schema.js';
import { createCsrfTokens } from './infra/csrf.js';
import { createMailer } from './infra/mailer.js';
import { createMetrics } from './infra/metrics.js';
import { createRedis } from './infra/redis.js';
import { createSignalBus, type SignalBus } from './infra/signals.js';
import { createVirusScanner } from './infra/scan/clamav.js';
import { resolveJwtSecret, resolveMfaKey } from './infra/secret.js';
import { SessionCache } from './infra/session-cache.js';
import { createStorage } from './infra/storage/index.js';
import type { DocumentStorage } from './infra/storage/storage.js';
import { createTokenSigner } from './infra/tokens.js';
import { adminModule } from './modules/admin/index.js';
import { appointmentsModule } from './modules/appointments/index.js';
import { auditModule } from './modules/audit/index.js';
import { recordAccessDenied } from './modules/audit/audit.service.js';
import { accountCredentials } from './modules/auth/account-credentials.js';
import { authenticate } from './modules/auth/sessions/authenticate.js';
import { authModule } from './modules/auth/index.js';
import { documentsModule } from './modules/documents/index.js';
import { createLifecycle, type Lifecycle } from './lib/lifecycle.js';
import { healthModule } from './modules/health/index.js';
import { createOutbox, registerOutboxMetrics, type Outbox } from './modules/outbox/index.js';
import { patientSummaryPdf } from './modules/patient-summary/index.js';
import { patientsModule } from './modules/patients/index.js';
import { prescriptionsModule } from './modules/prescriptions/index.js';
import { promptsModule } from './modules/prompts/index.js';
import { remindersModule } from './modules/reminders/index.js';
import { statusModule } from './modules/status/index.js';
import { usersModule } from './modules/users/index.js';
import { authPlugin } from './plugins/auth.js';
import { consolePlugin } from './plugins/console.js';
import { errorsPlugin, rawProblemHandler } from './plugins/errors.js';
import { serializeOnFirstUse } from './plugins/lazy-compile.js';
import { idempotencyPlugin } from './plugins/idempotency.js';
import { metricsPlugin, metricsRoute } from './plugins/metrics.js';
import { openapiPlugin } from './plugins/openapi.js';
import { httpServerOptions, overloadPlugin } from './plugins/overload.js';
import { requestContextPlugin, requestIdFor } from './plugins/request-context.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { securityPlugin } from './plugins/security.js';
import { installValidators } from './plugins/validation.js';

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
    database: Database;
    lifecycle: Lifecycle;
  }
}

export interface BuildOptions {
  /** Override the logger (tests pass false or a stream). */
  logger?: FastifyServerOptions['logger'];
  /** Send the production log configuration (redaction included) to this stream instead. */
  logStream?: { write(line: string): void };
  clock?: Clock;
  /** Sees every SQL statement the app sends (tests count statements per request). */
  queryLogger?: Logger;
  /**
   * A database the caller already began to open (the CLI starts PGlite's thread before it
   * imports this file, so the two overlap); closed with the app like its own.
   */
  database?: Promise<Database>;
}

/**
 * Builds the whole application: plugins first, then every module under /api/v1, explicitly and
 * in order. This file is the table of contents of the service.
 */
export async function buildApp(
  config: Config,
  options: BuildOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config, options.logStream),
    genReqId: (req) => requestIdFor(req.headers['x-request-id']),
    // One line per request comes from our own onResponse hook (with route and user id).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    routerOptions: {
      ignoreTrailingSlash: true,
      maxParamLength: 200,
      onBadUrl: rawProblemHandler('bad_request', 'The URL is not correctly encoded'),
      onMaxParamLength: rawProblemHandler('uri_too_long', 'A path parameter is too long'),
    },
    // Slow clients are cut off (SECURITY.md): headers within 10 s, the whole request within 30 s,
    // checked every second (plugins/overload.ts).
    http: httpServerOptions(config),
    requestTimeout: config.requestTimeoutMs,
    return503OnClosing: true,
    // Answer serializers are compiled on a route's first request, not at start-up.
    schemaController: { compilersFactory: { buildSerializer: serializeOnFirstUse } },
  });
  installValidators(app);
  // Only JSON (and, on login, the OAuth2 form) is accepted: anything else is a 415.
  app.removeContentTypeParser('text/plain');
  // The problem+json body every route may answer; each module adds its own shared schemas.
  app.addSchema(ProblemSchema);

  const database = await (options.database ??
    openDatabase(options.queryLogger ? { ...config, queryLogger: options.queryLogger } : config));
  let redis: Redis | undefined;
  let storage: DocumentStorage | undefined;
  let bus: SignalBus | undefined;
  let outbox: Outbox | undefined;
  const background = createBackgroundTasks();
  const mailer = createMailer(config);
  app.addHook('onClose', async () => {
    // The dispatcher finishes its pass while the database is still open.
    await outbox?.stop();
    await bus?.close();
    // Background work (reset emails) may still need the database and the mailer; it gets a
    // few seconds, inside the 10 s shutdown budget.
    await background.drain(5_000);
    mailer.close();
    redis?.disconnect();
    await storage?.close();
    await database.close();
  });
  try {
    if (config.migrateOnStart) await database.migrate();
    redis = config.redisUrl === undefined ? undefined : await createRedis(config.redisUrl);
    storage = await createStorage(config);
    // The fan-out of outbox hints between instances (infra/signals.ts).
    bus = await createSignalBus(
      redis !== undefined
        ? { kind: 'redis', redis, channel: 'medcore:outbox' }
        : database.kind === 'postgres' && config.databaseUrl !== undefined
          ? {
              kind: 'postgres',
              url: config.databaseUrl,
              channel: 'medcore_outbox',
              connectMs: config.dbConnectTimeoutMs,
            }
          : { kind: 'memory' },
    );
    outbox = createOutbox({
      db: database.db,
      bus,
      pollMs: config.jobsPollIntervalMs,
      dispatcher: { retentionS: config.outboxRetentionHours * 3600 },
      log: app.log.child({ module: 'outbox' }),
    });
    const secret = resolveJwtSecret(config, (message) => {
      app.log.warn(message);
    });
    if (config.nodeEnv === 'production' && config.smtpUrl === undefined) {
      // Reset links would only land in DATA_DIR/outbox: say so loudly, but let a practice
      // without email run (admins can still set passwords).
      app.log.warn('SMTP_URL is not set: password-reset emails are written to DATA_DIR/outbox');
    }
    const lifecycle = createLifecycle();
    const deps: Omit<AppContext, 'credentials'> = {
      outbox,
      config,
      db: database.db,
      clock: options.clock ?? systemClock,
      tokens: createTokenSigner({
        secret,
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        accessTtlS: config.accessTokenTtlS,
      }),
      mfaKey: resolveMfaKey(config, secret),
      csrf: createCsrfTokens(secret),
      mailer,
      background,
      sessionCache: new SessionCache(config.authCacheMs),
      metrics: createMetrics(),
      lifecycle,
      storage,
      scanner:
        config.clamavSocket === undefined
          ? undefined
          : createVirusScanner({ socket: config.clamavSocket, timeoutMs: config.clamavTimeoutMs }),
    };
    const ctx: AppContext = { ...deps, credentials: accountCredentials(deps) };
    app.addHook('onClose', async () => {
      ctx.sessionCache.close();
    });
    app.decorate('ctx', ctx);
    app.decorate('database', database);
    app.decorate('lifecycle', lifecycle);

    await app.register(errorsPlugin);
    await app.register(requestContextPlugin);
    // Early, so requests refused by any later hook (limits, overload, authentication) count too.
    await app.register(metricsPlugin, {
      metrics: ctx.metrics,
      database,
      sessionCache: ctx.sessionCache,
    });
    await app.register(securityPlugin, { config });
    // Before limits and authentication: an overloaded instance refuses before doing any work.
    await app.register(overloadPlugin, { config });
    // Before authentication, so over-limit callers are refused before any token or database work.
    if (config.rateLimitEnabled) {
      await app.register(rateLimitPlugin, { config, redis, tokens: ctx.tokens });
    }
    await app.register(authPlugin, {
      authenticate: (token) => authenticate(ctx, token),
      denied: (actor, route, permission) => recordAccessDenied(ctx.db, actor, route, permission),
    });
    // After authentication: keys are per user. Its hooks act only on routes that opt in.
    await app.register(idempotencyPlugin, {
      db: ctx.db,
      clock: ctx.clock,
      ttlS: config.idempotencyTtlS,
    });
    await app.register(openapiPlugin, { config });
    // The staff console at `/` when it is built (else the home page linking the docs).
    await app.register(consolePlugin, { dir: config.consoleDir, docsEnabled: config.docsEnabled });

    // Modules: one line each (src/modules/README.md). Their order is the order of the paths in
    // the OpenAPI document.
    await app.register(healthModule, { database, redis, lifecycle });
    await app.register(metricsRoute, { metrics: ctx.metrics, token: config.metricsToken });
    await app.register(
      async (api) => {
        await api.register(authModule, { ctx });
        await api.register(usersModule, { ctx });
        await api.register(patientsModule, { ctx, summaryPdf: patientSummaryPdf });
        await api.register(appointmentsModule, { ctx });
        await api.register(prescriptionsModule, { ctx });
        await api.register(documentsModule, { ctx });
        await api.register(auditModule, { ctx });
        await api.register(adminModule, { ctx });
        await api.register(promptsModule, { ctx });
        await api.register(statusModule, { ctx });
      },
      { prefix: '/api/v1' },
    );
    // Background jobs without routes: appointment reminder emails (off when no lead is set).
    await app.register(remindersModule, { ctx });
    registerOutboxMetrics(ctx);
    // Consumers are registered by now: dispatching starts with the app, never before.
    const started = outbox;
    app.addHook('onReady', async () => {
      started.start();
      await Promise.resolve();
    });
    await app.ready();
    // A Fastify instance is thenable (it resolves to itself once ready), which this rule flags.
    // eslint-disable-next-line @typescript-eslint/return-await
    return app;
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}
