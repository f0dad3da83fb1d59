import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const secret = 's'.repeat(32);

/** Runs loadConfig and returns the ConfigError it throws (fails the test if it does not throw). */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected loadConfig(${JSON.stringify(env)}) to throw a ConfigError`);
}

describe('loadConfig: overload, timeouts, metrics', () => {
  it('refuses limits that contradict each other, naming the key', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '4000' })).toThrow(
      /REQUEST_TIMEOUT_MS: must be >= HEADERS_TIMEOUT_MS/,
    );
    expect(() => loadConfig({ SHUTDOWN_DELAY_MS: '10000' })).toThrow(
      /SHUTDOWN_DELAY_MS: must be < SHUTDOWN_TIMEOUT_MS/,
    );
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() => loadConfig({ METRICS_TOKEN: 'has spaces in it, sixteen+' })).toThrow(
      /METRICS_TOKEN/,
    );
    expect(() => loadConfig({ IDEMPOTENCY_TTL_S: '10' })).toThrow(/IDEMPOTENCY_TTL_S/);
    expect(loadConfig({ METRICS_TOKEN: 'abcdefghijklmnop' }).metricsToken).toBe('abcdefghijklmnop');
  });
});

describe('loadConfig defaults', () => {
  it('uses the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      nodeEnv: 'development',
      seedDemo: true,
      host: '127.0.0.1',
      port: 8000,
      logLevel: 'info',
      databaseUrl: undefined,
      dataDir: './data',
      dbPoolMax: 25,
      dbConnectTimeoutMs: 1_000,
      dbQueryTimeoutMs: 1_500,
      dbStatementTimeoutMs: 1_500,
      dbJobTimeoutMs: 3_600_000,
      migrateOnStart: true,
      redisUrl: undefined,
      jwtSecret: undefined,
      jwtIssuer: 'medcore',
      jwtAudience: 'medcore-api',
      accessTokenTtlS: 900,
      refreshTokenTtlS: 14 * 86_400,
      refreshTokenAbsoluteTtlS: 30 * 86_400,
      refreshReuseGraceS: 10,
      authCacheMs: 500,
      auditSealIntervalMs: 200,
      jobsPollIntervalMs: 1_000,
      outboxRetentionHours: 168,
      sseHeartbeatMs: 15_000,
      reminderLeadMinutes: [120, 1440],
      registrationMode: 'open',
      corsOrigins: [],
      docsEnabled: true,
      consoleDir: 'dist/console',
      bodyLimitBytes: 1_048_576,
      trustProxy: false,
      shutdownTimeoutMs: 10_000,
      shutdownDelayMs: 1_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      connectionsCheckIntervalMs: 1_000,
      overloadMaxEventLoopDelayMs: 1_000,
      overloadMaxHeapUsedBytes: 0,
      overloadMaxInFlight: 500,
      overloadRetryAfterS: 5,
      idempotencyTtlS: 86_400,
      metricsToken: undefined,
      clinicTimeZone: 'UTC',
      workdayStart: '09:00',
      workdayEnd: '17:00',
      workdays: [1, 2, 3, 4, 5],
      slotStepMinutes: 15,
      mfaEncryptionKey: undefined,
      mfaIssuer: 'MedCore',
      lockoutThreshold: 5,
      lockoutWindowS: 900,
      lockoutBaseS: 60,
      lockoutMaxS: 900,
      rateLimitEnabled: true,
      rateLimitAuthPerMin: 60,
      rateLimitPerMin: 600,
      rateLimitWindowMs: 60_000,
      rateLimitKeyPrefix: 'medcore:rl:',
      passwordResetTtlS: 1_800,
      smtpUrl: undefined,
      emailFrom: 'MedCore <no-reply@medcore.local>',
      publicUrl: 'http://127.0.0.1:8000',
      documentMaxBytes: 10_485_760,
      documentQuotaBytes: 1_073_741_824,
      documentsEncryptionKey: undefined,
      storageDriver: 'local',
      storageDir: undefined,
      s3Bucket: undefined,
      s3Region: 'us-east-1',
      s3Endpoint: undefined,
      s3AccessKeyId: undefined,
      s3SecretAccessKey: undefined,
      s3ForcePathStyle: false,
      azureConnectionString: undefined,
      azureContainer: 'medcore-documents',
      clamavSocket: undefined,
      clamavTimeoutMs: 15_000,
      clamavFailOpen: false,
      llmBaseUrl: undefined,
      llmModel: undefined,
      llmApiKey: undefined,
      llmTimeoutMs: 30_000,
      llmMaxAttempts: 3,
      llmResumeIntervalMs: 60_000,
      promptDailyQuota: 100,
    });
  });

  it('requires what each storage driver and the language model need', () => {
    expect(() => loadConfig({ STORAGE_DRIVER: 's3' })).toThrow(/S3_BUCKET/);
    expect(() => loadConfig({ STORAGE_DRIVER: 'azure' })).toThrow(
      /AZURE_STORAGE_CONNECTION_STRING/,
    );
    expect(() => loadConfig({ STORAGE_DRIVER: 'ftp' })).toThrow(/STORAGE_DRIVER/);
    expect(loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'docs' }).s3Bucket).toBe('docs');
    expect(() => loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:9/v1' })).toThrow(/LLM_MODEL/);
    expect(() => loadConfig({ LLM_BASE_URL: 'file:///etc/passwd', LLM_MODEL: 'm' })).toThrow(
      /LLM_BASE_URL/,
    );
    expect(() => loadConfig({ DOCUMENTS_ENCRYPTION_KEY: 'short' })).toThrow(
      /DOCUMENTS_ENCRYPTION_KEY/,
    );
    expect(() => loadConfig({ DOCUMENT_MAX_BYTES: '10' })).toThrow(/DOCUMENT_MAX_BYTES/);
  });

  it('treats empty and whitespace-only values as unset', () => {
    const config = loadConfig({ PORT: '', LOG_LEVEL: '   ', TRUST_PROXY: '', JWT_SECRET: ' ' });
    expect(config.port).toBe(8000);
    expect(config.logLevel).toBe('info');
    expect(config.trustProxy).toBe(false);
    expect(config.jwtSecret).toBeUndefined();
  });

  it('parses valid values, trimming surrounding whitespace', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: `  ${secret}  `,
      MFA_ENCRYPTION_KEY: secret,
      SMTP_URL: 'smtps://mail.example.test:465',
      PUBLIC_URL: 'https://clinic.example.test',
      PORT: ' 0 ',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: 'postgresql://u@db:5432/medcore',
      REDIS_URL: 'rediss://cache:6380',
      MIGRATE_ON_START: 'no',
      DOCS_ENABLED: 'OFF',
      TRUST_PROXY: 'Yes',
      REGISTRATION_MODE: 'closed',
      ACCESS_TOKEN_TTL_S: '60',
      REFRESH_TOKEN_TTL_S: '3600',
      REFRESH_TOKEN_ABSOLUTE_TTL_S: '3600',
    });
    expect(config).toMatchObject({
      nodeEnv: 'production',
      jwtSecret: secret,
      port: 0,
      host: '0.0.0.0',
      logLevel: 'silent',
      databaseUrl: 'postgresql://u@db:5432/medcore',
      redisUrl: 'rediss://cache:6380',
      migrateOnStart: false,
      docsEnabled: false,
      trustProxy: true,
      registrationMode: 'closed',
      accessTokenTtlS: 60,
      refreshTokenTtlS: 3600,
      refreshTokenAbsoluteTtlS: 3600,
      mfaEncryptionKey: secret,
      smtpUrl: 'smtps://mail.example.test:465',
      publicUrl: 'https://clinic.example.test',
    });
  });

  it('accepts every spelling of true and false', () => {
    for (const value of ['true', '1', 'yes', 'on', 'TRUE', 'On']) {
      expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toBe(true);
    }
    for (const value of ['false', '0', 'no', 'off', 'False', 'NO']) {
      expect(loadConfig({ DOCS_ENABLED: value }).docsEnabled).toBe(false);
    }
  });

  it('accepts the range boundaries of an integer', () => {
    expect(loadConfig({ PORT: '65535' }).port).toBe(65_535);
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
    expect(loadConfig({ DB_POOL_MAX: '1' }).dbPoolMax).toBe(1);
    expect(loadConfig({ DB_POOL_MAX: '500' }).dbPoolMax).toBe(500);
  });
});

describe('loadConfig rejects bad values with a ConfigError naming the key', () => {
  const cases: [string, Record<string, string>][] = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '80.5' }],
    ['PORT', { PORT: '1e3' }],
    ['PORT', { PORT: '0x50' }],
    ['PORT', { PORT: '8000abc' }],
    ['PORT', { PORT: '65536' }],
    ['PORT', { PORT: '-1' }],
    ['DB_POOL_MAX', { DB_POOL_MAX: '0' }],
    ['DB_POOL_MAX', { DB_POOL_MAX: '501' }],
    ['DB_CONNECT_TIMEOUT_MS', { DB_CONNECT_TIMEOUT_MS: '99' }],
    ['DB_QUERY_TIMEOUT_MS', { DB_QUERY_TIMEOUT_MS: 'ten' }],
    ['DB_STATEMENT_TIMEOUT_MS', { DB_STATEMENT_TIMEOUT_MS: '600001' }],
    ['DB_JOB_TIMEOUT_MS', { DB_JOB_TIMEOUT_MS: '999' }],
    ['ACCESS_TOKEN_TTL_S', { ACCESS_TOKEN_TTL_S: '59' }],
    ['ACCESS_TOKEN_TTL_S', { ACCESS_TOKEN_TTL_S: '86401' }],
    ['REFRESH_TOKEN_TTL_S', { REFRESH_TOKEN_TTL_S: '299' }],
    ['REFRESH_REUSE_GRACE_S', { REFRESH_REUSE_GRACE_S: '61' }],
    ['BODY_LIMIT_BYTES', { BODY_LIMIT_BYTES: '1023' }],
    ['SHUTDOWN_TIMEOUT_MS', { SHUTDOWN_TIMEOUT_MS: '99999999999999999999' }],
    ['MIGRATE_ON_START', { MIGRATE_ON_START: 'maybe' }],
    ['DOCS_ENABLED', { DOCS_ENABLED: '2' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'y' }],
    ['REGISTRATION_MODE', { REGISTRATION_MODE: 'invite' }],
    ['REGISTRATION_MODE', { REGISTRATION_MODE: 'OPEN' }],
    ['NODE_ENV', { NODE_ENV: 'staging' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://root@localhost/medcore' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['DATABASE_URL', { DATABASE_URL: 'redis://localhost:6379' }],
    ['REDIS_URL', { REDIS_URL: 'http://localhost:6379' }],
    ['REDIS_URL', { REDIS_URL: 'localhost:6379' }],
    ['JWT_SECRET', { JWT_SECRET: 'x'.repeat(31) }],
    ['JWT_SECRET', { JWT_SECRET: `  ${'x'.repeat(31)}  ` }],
    ['JWT_SECRET', { NODE_ENV: 'production' }],
    ['MFA_ENCRYPTION_KEY', { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }],
    ['MFA_ENCRYPTION_KEY', { MFA_ENCRYPTION_KEY: 'too-short' }],
    ['LOCKOUT_MAX_S', { LOCKOUT_BASE_S: '600', LOCKOUT_MAX_S: '60' }],
    ['RATE_LIMIT_PER_MIN', { RATE_LIMIT_PER_MIN: '0' }],
    ['AUTH_CACHE_MS', { AUTH_CACHE_MS: '901' }],
    ['AUDIT_SEAL_INTERVAL_MS', { AUDIT_SEAL_INTERVAL_MS: '5' }],
    ['JOBS_POLL_INTERVAL_MS', { JOBS_POLL_INTERVAL_MS: '9' }],
    ['JOBS_POLL_INTERVAL_MS', { JOBS_POLL_INTERVAL_MS: '60001' }],
    ['OUTBOX_RETENTION_HOURS', { OUTBOX_RETENTION_HOURS: '-1' }],
    ['SSE_HEARTBEAT_MS', { SSE_HEARTBEAT_MS: '99' }],
    ['SMTP_URL', { SMTP_URL: 'http://mail.example.test' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'ftp://clinic.example.test' }],
    [
      'REFRESH_TOKEN_ABSOLUTE_TTL_S',
      { REFRESH_TOKEN_TTL_S: '7200', REFRESH_TOKEN_ABSOLUTE_TTL_S: '3600' },
    ],
    // The absolute default (30 days) is below a 60-day sliding TTL.
    ['REFRESH_TOKEN_ABSOLUTE_TTL_S', { REFRESH_TOKEN_TTL_S: String(60 * 86_400) }],
  ];

  it.each(cases)('%s: %j', (key, env) => {
    const error = configErrorOf(env);
    expect(error.name).toBe('ConfigError');
    expect(error.key).toBe(key);
    expect(error.message).toContain(key);
    expect(error.message).toMatch(/^Invalid configuration /);
  });

  it('quotes the offending value for non-integers and states the range', () => {
    expect(configErrorOf({ PORT: 'abc' }).message).toBe(
      'Invalid configuration PORT: expected an integer, got "abc"',
    );
    expect(configErrorOf({ PORT: '70000' }).message).toBe(
      'Invalid configuration PORT: expected 0..65535, got 70000',
    );
    expect(configErrorOf({ REGISTRATION_MODE: 'invite' }).message).toContain('open, closed');
  });

  it('does not echo the JWT secret in the error message', () => {
    const short = 'hunter2-hunter2';
    expect(configErrorOf({ JWT_SECRET: short }).message).not.toContain(short);
  });

  it('does not require JWT_SECRET outside production', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).jwtSecret).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'development' }).jwtSecret).toBeUndefined();
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, MFA_ENCRYPTION_KEY: secret })
        .jwtSecret,
    ).toBe(secret);
  });
});

describe('loadConfig result', () => {
  it('is frozen: assignments throw and leave the value unchanged', () => {
    const config = loadConfig({ PORT: '1234' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config as Record<string, unknown>).extra = true;
    }).toThrow(TypeError);
    expect(config.port).toBe(1234);
    expect('extra' in config).toBe(false);
  });

  it('reads process.env when no environment is given', () => {
    const before = process.env.JWT_ISSUER;
    process.env.JWT_ISSUER = 'from-process-env';
    try {
      expect(loadConfig().jwtIssuer).toBe('from-process-env');
    } finally {
      if (before === undefined) delete process.env.JWT_ISSUER;
      else process.env.JWT_ISSUER = before;
    }
  });
});

describe('CORS_ORIGINS', () => {
  it('is an empty list when unset or blank', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: '  ' }).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: ' , ,, ' }).corsOrigins).toEqual([]);
  });

  it('splits on commas, trims items and drops empty ones, keeping order', () => {
    expect(
      loadConfig({
        CORS_ORIGINS: ' https://a.example , https://b.example:8443,,http://localhost:5173, ',
      }).corsOrigins,
    ).toEqual(['https://a.example', 'https://b.example:8443', 'http://localhost:5173']);
  });

  it('keeps a single origin as a one-element list', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example' }).corsOrigins).toEqual([
      'https://app.example',
    ]);
  });
});

describe('working hours for availability', () => {
  it('parses the clinic time zone, hours and weekday ranges and lists', () => {
    const config = loadConfig({
      CLINIC_TIMEZONE: 'Europe/Warsaw',
      WORKDAY_START: '08:30',
      WORKDAY_END: '18:00',
      WORKDAYS: '1-3,5,7',
      SLOT_STEP_MINUTES: '10',
    });
    expect(config.clinicTimeZone).toBe('Europe/Warsaw');
    expect([config.workdayStart, config.workdayEnd]).toEqual(['08:30', '18:00']);
    expect(config.workdays).toEqual([1, 2, 3, 5, 7]);
    expect(config.slotStepMinutes).toBe(10);
  });

  it.each([
    ['CLINIC_TIMEZONE', { CLINIC_TIMEZONE: 'Mars/Olympus_Mons' }],
    ['WORKDAY_START', { WORKDAY_START: '9am' }],
    ['WORKDAY_END', { WORKDAY_END: '24:00' }],
    ['WORKDAY_END', { WORKDAY_START: '17:00', WORKDAY_END: '09:00' }],
    ['WORKDAYS', { WORKDAYS: '0-4' }],
    ['WORKDAYS', { WORKDAYS: 'mon-fri' }],
    ['SLOT_STEP_MINUTES', { SLOT_STEP_MINUTES: '1' }],
  ])('refuses a bad %s', (key, env) => {
    const error = configErrorOf(env);
    expect(error.key).toBe(key);
    expect(error.message).toContain(key);
  });
});

describe('appointment reminders', () => {
  it('defaults to 1440 and 120 minutes, polled every second', () => {
    const config = loadConfig({});
    expect(config.reminderLeadMinutes).toEqual([120, 1440]);
    expect(config.jobsPollIntervalMs).toBe(1_000);
  });

  it.each([
    ['60', [60]],
    [' 2880 , 15,60 ', [15, 60, 2880]],
    ['120,120,1', [1, 120]],
    ['43200', [43_200]],
  ])('parses REMINDER_LEAD_MINUTES=%j sorted, without duplicates', (raw, leads) => {
    expect(loadConfig({ REMINDER_LEAD_MINUTES: raw }).reminderLeadMinutes).toEqual(leads);
  });

  it.each(['0', '', '  ', ' 0 '])('turns reminders off with REMINDER_LEAD_MINUTES=%j', (raw) => {
    expect(loadConfig({ REMINDER_LEAD_MINUTES: raw }).reminderLeadMinutes).toEqual([]);
  });

  it.each([
    ['REMINDER_LEAD_MINUTES', { REMINDER_LEAD_MINUTES: '1440,0' }],
    ['REMINDER_LEAD_MINUTES', { REMINDER_LEAD_MINUTES: '-5' }],
    ['REMINDER_LEAD_MINUTES', { REMINDER_LEAD_MINUTES: '43201' }],
    ['REMINDER_LEAD_MINUTES', { REMINDER_LEAD_MINUTES: '1.5' }],
    ['REMINDER_LEAD_MINUTES', { REMINDER_LEAD_MINUTES: '1440,,120' }],
    ['REMINDER_LEAD_MINUTES', { REMINDER_LEAD_MINUTES: '1d' }],
    ['JOBS_POLL_INTERVAL_MS', { JOBS_POLL_INTERVAL_MS: '5' }],
    ['JOBS_POLL_INTERVAL_MS', { JOBS_POLL_INTERVAL_MS: '60001' }],
  ])('refuses a bad %s', (key, env) => {
    const error = configErrorOf(env);
    expect(error.key).toBe(key);
    expect(error.message).toContain(key);
  });
});
