import type { Logger } from 'drizzle-orm/logger';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { openDatabase, type Database } from './db/client.js';
import { createBackgroundTasks } from './lib/background.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createMailer } from './infra/mailer.js';
import { loggerOptions } from './logger.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { TokenPairSchema } from './modules/auth/auth.schemas.js';
import { UserSchema } from './modules/users/users.schemas.js';
import { PatientSchema } from './modules/patients/patients.schemas.js';
import { patientsRoutes } from './modules/patients/patients.routes.js';
import { AppointmentSchema } from './modules/appointments/appointments.schemas.js';
import { appointmentsRoutes } from './modules/appointments/appointments.routes.js';
import { PrescriptionSchema } from './modules/prescriptions/prescriptions.schemas.js';
import { prescriptionsRoutes } from './modules/prescriptions/prescriptions.routes.js';
import { ProblemSchema } from './lib/schema.js';
import { resolveJwtSecret, resolveMfaKey } from './infra/secret.js';
import { SessionCache } from './infra/session-cache.js';
import { createTokenSigner } from './infra/tokens.js';
import { healthRoutes, type Lifecycle } from './modules/health/health.routes.js';
import { usersRoutes } from './modules/users/users.routes.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { adminRoutes } from './modules/admin/admin.routes.js';
import { DocumentSchema } from './modules/documents/documents.schemas.js';
import { documentsRoutes } from './modules/documents/documents.routes.js';
import { createVirusScanner } from './infra/scan/clamav.js';
import { createStorage } from './infra/storage/index.js';
import type { DocumentStorage } from './infra/storage/storage.js';
import { PromptSchema } from './modules/prompts/prompts.schemas.js';
import { promptsRoutes } from './modules/prompts/prompts.routes.js';
import { StatusCheckSchema } from './modules/status/status.schemas.js';
import { statusRoutes } from './modules/status/status.routes.js';
import { authPlugin } from './plugins/auth.js';
import { errorsPlugin, rawProblemHandler } from './plugins/errors.js';
import { openapiPlugin } from './plugins/openapi.js';
import { createRedis } from './infra/redis.js';
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
    // Slow clients are cut off (SECURITY.md): the whole request within 30 s.
    requestTimeout: 30_000,
    return503OnClosing: true,
  });
  // Headers within 10 s; set on the server Fastify created.
  app.server.headersTimeout = 10_000;
  installValidators(app);
  // Only JSON (and, on login, the OAuth2 form) is accepted: anything else is a 415.
  app.removeContentTypeParser('text/plain');
  // Shared schemas live on the root so every module (and the OpenAPI components) can $ref them.
  for (const schema of [
    ProblemSchema,
    UserSchema,
    TokenPairSchema,
    PatientSchema,
    AppointmentSchema,
    PrescriptionSchema,
    DocumentSchema,
    PromptSchema,
    StatusCheckSchema,
  ]) {
    app.addSchema(schema);
  }

  const database = await openDatabase(
    options.queryLogger ? { ...config, queryLogger: options.queryLogger } : config,
  );
  let redis: Redis | undefined;
  let storage: DocumentStorage | undefined;
  const background = createBackgroundTasks();
  const mailer = createMailer(config);
  app.addHook('onClose', async () => {
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
    const secret = resolveJwtSecret(config, (message) => {
      app.log.warn(message);
    });
    if (config.nodeEnv === 'production' && config.smtpUrl === undefined) {
      // Reset links would only land in DATA_DIR/outbox: say so loudly, but let a practice
      // without email run (admins can still set passwords).
      app.log.warn('SMTP_URL is not set: password-reset emails are written to DATA_DIR/outbox');
    }
    const ctx: AppContext = {
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
      mailer,
      background,
      sessionCache: new SessionCache(config.authCacheMs),
      storage,
      scanner:
        config.clamavSocket === undefined
          ? undefined
          : createVirusScanner({ socket: config.clamavSocket, timeoutMs: config.clamavTimeoutMs }),
    };
    app.addHook('onClose', async () => {
      ctx.sessionCache.close();
    });
    const lifecycle: Lifecycle = { shuttingDown: false };
    app.decorate('ctx', ctx);
    app.decorate('database', database);
    app.decorate('lifecycle', lifecycle);

    await app.register(errorsPlugin);
    await app.register(requestContextPlugin);
    await app.register(securityPlugin, { config });
    // Before authentication, so over-limit callers are refused before any token or database work.
    if (config.rateLimitEnabled) {
      await app.register(rateLimitPlugin, { config, redis, tokens: ctx.tokens });
    }
    await app.register(authPlugin, { ctx });
    await app.register(openapiPlugin, { config });

    await app.register(healthRoutes, { database, redis, lifecycle });
    await app.register(
      async (api) => {
        await api.register(authRoutes, { prefix: '/auth', ctx });
        await api.register(usersRoutes, { ctx });
        await api.register(patientsRoutes, { ctx });
        await api.register(appointmentsRoutes, { ctx });
        await api.register(prescriptionsRoutes, { ctx });
        await api.register(documentsRoutes, { ctx });
        await api.register(auditRoutes, { ctx });
        await api.register(adminRoutes, { ctx });
        await api.register(promptsRoutes, { ctx });
        await api.register(statusRoutes, { ctx });
      },
      { prefix: '/api/v1' },
    );
    await app.ready();
    // A Fastify instance is thenable (it resolves to itself once ready), which this rule flags.
    // eslint-disable-next-line @typescript-eslint/return-await
    return app;
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}
