/**
 * Environment -> validated, typed, frozen configuration. Nothing else reads process.env.
 * Every key here is listed, with its default, in .env.example and the README.
 */

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`Invalid configuration ${key}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads `.env` from the directory the service starts in into process.env, before loadConfig.
 * Variables already in the environment win (process.loadEnvFile never overrides one). Returns
 * the keys the file provided, so an error about one of them can say where it came from; none
 * when there is no file.
 */
export function loadEnvFile(dir: string = process.cwd()): ReadonlySet<string> {
  const before = new Set(Object.keys(process.env));
  try {
    process.loadEnvFile(`${dir}/.env`);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return new Set();
    throw new ConfigError('.env', (error as Error).message);
  }
  return new Set(Object.keys(process.env).filter((key) => !before.has(key)));
}

function read(env: Env, key: string): string | undefined {
  const value = env[key];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function str(env: Env, key: string, fallback: string): string {
  return read(env, key) ?? fallback;
}

function optionalStr(env: Env, key: string): string | undefined {
  return read(env, key);
}

function int(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = read(env, key);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(key, `expected an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(key, `expected ${min}..${max}, got ${value}`);
  }
  return value;
}

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = read(env, key)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(key, `expected true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, key: string, fallback: T, allowed: readonly T[]): T {
  const raw = read(env, key);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(key, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function url(env: Env, key: string, protocols: readonly string[]): string | undefined {
  const raw = read(env, key);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(key, 'expected a URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(key, `expected a ${protocols.join(' or ')} URL`);
  }
  return raw;
}

function list(env: Env, key: string): string[] {
  const raw = read(env, key);
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function timeOfDay(env: Env, key: string, fallback: string): string {
  const raw = read(env, key) ?? fallback;
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(raw))
    throw new ConfigError(key, `expected HH:MM, got "${raw}"`);
  return raw;
}

function timeZone(env: Env, key: string, fallback: string): string {
  const raw = read(env, key) ?? fallback;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: raw });
  } catch {
    throw new ConfigError(key, `unknown IANA time zone "${raw}"`);
  }
  return raw;
}

/** ISO weekdays, 1 = Monday .. 7 = Sunday, e.g. "1-5" or "1,2,3,4,5,6". */
function weekdays(env: Env, key: string, fallback: string): readonly number[] {
  const raw = read(env, key) ?? fallback;
  const days = new Set<number>();
  for (const part of raw.split(',')) {
    const range = /^\s*([1-7])\s*(?:-\s*([1-7]))?\s*$/.exec(part);
    if (!range) throw new ConfigError(key, `expected ISO weekdays like 1-5 or 1,3,5, got "${raw}"`);
    const from = Number(range[1]);
    const to = Number(range[2] ?? range[1]);
    for (let day = from; day <= to; day++) days.add(day);
  }
  return Object.freeze([...days].sort());
}

/** Reminder lead times must fit the 365-day booking horizon's last month: 1 minute .. 30 days. */
const MAX_LEAD_MINUTES = 43_200;

/**
 * REMINDER_LEAD_MINUTES: a comma list of minutes before an appointment, e.g. "1440,120". Unset
 * gives the fallback; "0" or an empty value turns reminders off (an empty list). Sorted,
 * without duplicates.
 */
function leadMinutes(env: Env, key: string, fallback: string): readonly number[] {
  const given = env[key];
  const raw = (given ?? fallback).trim();
  if (raw === '' || raw === '0') return Object.freeze([]);
  const leads = new Set<number>();
  for (const part of raw.split(',')) {
    const item = part.trim();
    const value = Number(item);
    if (!/^\d+$/.test(item) || value < 1 || value > MAX_LEAD_MINUTES) {
      throw new ConfigError(
        key,
        `expected a comma list of minutes 1..${MAX_LEAD_MINUTES} (or 0 for none), got "${raw}"`,
      );
    }
    leads.add(value);
  }
  return Object.freeze([...leads].sort((a, b) => a - b));
}

const nodeEnvs = ['development', 'production', 'test'] as const;
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const registrationModes = ['open', 'closed'] as const;
const storageDrivers = ['local', 's3', 'azure'] as const;

/** A secret given in config: at least 32 characters (it is stretched with HKDF where used). */
function secretKey(env: Env, key: string): string | undefined {
  const value = optionalStr(env, key);
  if (value !== undefined && value.length < 32) {
    throw new ConfigError(key, 'must be at least 32 characters');
  }
  return value;
}

/** A bearer token a scraper sends: the characters a Bearer header may carry, 16 or more. */
function bearerSecret(env: Env, key: string): string | undefined {
  const value = optionalStr(env, key);
  if (value !== undefined && !/^[A-Za-z0-9._~+/=-]{16,4096}$/.test(value)) {
    throw new ConfigError(key, 'must be 16 or more characters of A-Z a-z 0-9 . _ ~ + / = -');
  }
  return value;
}

export function loadConfig(env: Env = process.env) {
  const nodeEnv = oneOf(env, 'NODE_ENV', 'development', nodeEnvs);
  const jwtSecret = optionalStr(env, 'JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters');
  }
  if (jwtSecret === undefined && nodeEnv === 'production') {
    throw new ConfigError('JWT_SECRET', 'is required when NODE_ENV=production');
  }
  const accessTtl = int(env, 'ACCESS_TOKEN_TTL_S', 900, 60, 86_400);
  const refreshTtl = int(env, 'REFRESH_TOKEN_TTL_S', 14 * 86_400, 300, 90 * 86_400);
  const refreshAbsolute = int(env, 'REFRESH_TOKEN_ABSOLUTE_TTL_S', 30 * 86_400, 300, 365 * 86_400);
  if (refreshAbsolute < refreshTtl) {
    throw new ConfigError('REFRESH_TOKEN_ABSOLUTE_TTL_S', 'must be >= REFRESH_TOKEN_TTL_S');
  }

  const mfaEncryptionKey = secretKey(env, 'MFA_ENCRYPTION_KEY');
  if (mfaEncryptionKey === undefined && nodeEnv === 'production') {
    throw new ConfigError('MFA_ENCRYPTION_KEY', 'is required when NODE_ENV=production');
  }

  const lockoutBaseS = int(env, 'LOCKOUT_BASE_S', 60, 1, 86_400);
  const lockoutMaxS = int(env, 'LOCKOUT_MAX_S', 900, 1, 86_400);
  if (lockoutMaxS < lockoutBaseS)
    throw new ConfigError('LOCKOUT_MAX_S', 'must be >= LOCKOUT_BASE_S');

  const storageDriver = oneOf(env, 'STORAGE_DRIVER', 'local', storageDrivers);
  const s3Bucket = optionalStr(env, 'S3_BUCKET');
  if (storageDriver === 's3' && s3Bucket === undefined) {
    throw new ConfigError('S3_BUCKET', 'is required when STORAGE_DRIVER=s3');
  }
  const azureConnectionString = optionalStr(env, 'AZURE_STORAGE_CONNECTION_STRING');
  if (storageDriver === 'azure' && azureConnectionString === undefined) {
    throw new ConfigError(
      'AZURE_STORAGE_CONNECTION_STRING',
      'is required when STORAGE_DRIVER=azure',
    );
  }
  const llmBaseUrl = url(env, 'LLM_BASE_URL', ['http:', 'https:']);
  const llmModel = optionalStr(env, 'LLM_MODEL');
  if (llmBaseUrl !== undefined && llmModel === undefined) {
    throw new ConfigError('LLM_MODEL', 'is required when LLM_BASE_URL is set');
  }

  const workdayStart = timeOfDay(env, 'WORKDAY_START', '09:00');
  const workdayEnd = timeOfDay(env, 'WORKDAY_END', '17:00');
  if (workdayEnd <= workdayStart)
    throw new ConfigError('WORKDAY_END', 'must be after WORKDAY_START');

  const headersTimeoutMs = int(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = int(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new ConfigError('REQUEST_TIMEOUT_MS', 'must be >= HEADERS_TIMEOUT_MS');
  }
  const shutdownDelayMs = int(env, 'SHUTDOWN_DELAY_MS', 1_000, 0, 60_000);
  const shutdownTimeout = int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 100, 120_000);
  if (shutdownDelayMs >= shutdownTimeout) {
    throw new ConfigError('SHUTDOWN_DELAY_MS', 'must be < SHUTDOWN_TIMEOUT_MS');
  }

  return Object.freeze({
    nodeEnv,
    host: str(env, 'HOST', '127.0.0.1'),
    port: int(env, 'PORT', 8000, 0, 65_535),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', logLevels),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: str(env, 'DATA_DIR', './data'),
    // Sized for 50 concurrent requests: with 10, fifty concurrent searches over 100,000 patients
    // waited longer than DB_CONNECT_TIMEOUT_MS for a connection (503s); with 25 none did, and 50
    // only added contention on the database. PostgreSQL's max_connections (100 by default) must
    // hold DB_POOL_MAX x instances.
    dbPoolMax: int(env, 'DB_POOL_MAX', 25, 1, 500),
    // Request timeouts are short so that a down or frozen database answers 503 within 2 s
    // (SECURITY.md, Resilience) instead of piling up requests; they also bound the wait for a
    // free pooled connection. Jobs (migrations, CLI commands) use DB_JOB_TIMEOUT_MS instead.
    dbConnectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 1_000, 100, 120_000),
    dbQueryTimeoutMs: int(env, 'DB_QUERY_TIMEOUT_MS', 1_500, 100, 600_000),
    dbStatementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 1_500, 100, 600_000),
    dbJobTimeoutMs: int(env, 'DB_JOB_TIMEOUT_MS', 3_600_000, 1_000, 86_400_000),
    migrateOnStart: bool(env, 'MIGRATE_ON_START', true),
    // Development only: the first start on an empty database creates the demo practice.
    seedDemo: bool(env, 'SEED_DEMO', true),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    jwtSecret,
    jwtIssuer: str(env, 'JWT_ISSUER', 'medcore'),
    jwtAudience: str(env, 'JWT_AUDIENCE', 'medcore-api'),
    accessTokenTtlS: accessTtl,
    refreshTokenTtlS: refreshTtl,
    refreshTokenAbsoluteTtlS: refreshAbsolute,
    refreshReuseGraceS: int(env, 'REFRESH_REUSE_GRACE_S', 10, 0, 60),
    // Under 1 s (the longest SECURITY.md lets a revocation take to reach another instance),
    // leaving room for the lookup that filled the entry.
    authCacheMs: int(env, 'AUTH_CACHE_MS', 500, 0, 900),
    // How often committed audit rows are sealed into the hash chain; the sealing lag is about
    // one interval.
    auditSealIntervalMs: int(env, 'AUDIT_SEAL_INTERVAL_MS', 200, 10, 60_000),
    // How often each instance looks for outbox events and due jobs (appointment reminders) when
    // no wake-up reached it.
    jobsPollIntervalMs: int(env, 'JOBS_POLL_INTERVAL_MS', 1_000, 10, 60_000),
    // Dispatched outbox events are kept this long (they serve Last-Event-ID), then deleted;
    // 0 keeps them all.
    outboxRetentionHours: int(env, 'OUTBOX_RETENTION_HOURS', 168, 0, 87_600),
    // Comment lines on an idle event stream, so proxies and clients keep it open.
    sseHeartbeatMs: int(env, 'SSE_HEARTBEAT_MS', 15_000, 100, 300_000),
    // Appointment reminder emails this many minutes before the start; empty = no reminders.
    reminderLeadMinutes: leadMinutes(env, 'REMINDER_LEAD_MINUTES', '1440,120'),
    registrationMode: oneOf(env, 'REGISTRATION_MODE', 'open', registrationModes),
    corsOrigins: Object.freeze(list(env, 'CORS_ORIGINS')),
    docsEnabled: bool(env, 'DOCS_ENABLED', true),
    // The built staff console (`vite build`), served at `/` when its index.html exists; a
    // relative path starts at the installation directory, wherever the service is started from.
    consoleDir: str(env, 'CONSOLE_DIR', 'dist/console'),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1_048_576, 1_024, 104_857_600),
    trustProxy: bool(env, 'TRUST_PROXY', false),
    shutdownTimeoutMs: shutdownTimeout,
    // After SIGTERM, how long readiness answers 503 while requests are still served, so a load
    // balancer stops sending before connections are refused (SIGINT skips it).
    shutdownDelayMs,
    // Slow clients (SECURITY.md): headers within 10 s, the whole request within 30 s, checked
    // every CONNECTIONS_CHECK_INTERVAL_MS (Node's 30 s default let a slow client keep a socket
    // for 54 s).
    headersTimeoutMs,
    requestTimeoutMs,
    connectionsCheckIntervalMs: int(env, 'CONNECTIONS_CHECK_INTERVAL_MS', 1_000, 100, 30_000),
    // Overload: answer 503 with Retry-After rather than queue without bound; 0 turns a bound off.
    overloadMaxEventLoopDelayMs: int(env, 'OVERLOAD_MAX_EVENT_LOOP_DELAY_MS', 1_000, 0, 60_000),
    overloadMaxHeapUsedBytes: int(env, 'OVERLOAD_MAX_HEAP_USED_BYTES', 0, 0, 68_719_476_736),
    overloadMaxInFlight: int(env, 'OVERLOAD_MAX_IN_FLIGHT', 500, 0, 1_000_000),
    overloadRetryAfterS: int(env, 'OVERLOAD_RETRY_AFTER_S', 5, 1, 3_600),
    // How long a create's answer is kept for a retry with the same Idempotency-Key.
    idempotencyTtlS: int(env, 'IDEMPOTENCY_TTL_S', 86_400, 60, 7 * 86_400),
    // GET /metrics is open when unset; when set, scrapers send it as a bearer token.
    metricsToken: bearerSecret(env, 'METRICS_TOKEN'),
    clinicTimeZone: timeZone(env, 'CLINIC_TIMEZONE', 'UTC'),
    workdayStart,
    workdayEnd,
    workdays: weekdays(env, 'WORKDAYS', '1-5'),
    slotStepMinutes: int(env, 'SLOT_STEP_MINUTES', 15, 5, 240),
    // Security (SECURITY.md figures are the defaults).
    mfaEncryptionKey,
    mfaIssuer: str(env, 'MFA_ISSUER', 'MedCore'),
    lockoutThreshold: int(env, 'LOCKOUT_THRESHOLD', 5, 1, 100),
    lockoutWindowS: int(env, 'LOCKOUT_WINDOW_S', 900, 10, 86_400),
    lockoutBaseS,
    lockoutMaxS,
    rateLimitEnabled: bool(env, 'RATE_LIMIT_ENABLED', true),
    rateLimitAuthPerMin: int(env, 'RATE_LIMIT_AUTH_PER_MIN', 60, 1, 1_000_000),
    rateLimitPerMin: int(env, 'RATE_LIMIT_PER_MIN', 600, 1, 1_000_000),
    // The budgets above apply per window; a shorter window exists for tests, not production.
    rateLimitWindowMs: int(env, 'RATE_LIMIT_WINDOW_MS', 60_000, 1_000, 3_600_000),
    // Namespaces the counters in Redis, so deployments (or test runs) sharing one Redis stay apart.
    rateLimitKeyPrefix: str(env, 'RATE_LIMIT_KEY_PREFIX', 'medcore:rl:'),
    passwordResetTtlS: int(env, 'PASSWORD_RESET_TTL_S', 1_800, 60, 86_400),
    // Email: SMTP when SMTP_URL is set; otherwise messages are written to DATA_DIR/outbox.
    smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
    emailFrom: str(env, 'EMAIL_FROM', 'MedCore <no-reply@medcore.local>'),
    publicUrl: url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? 'http://127.0.0.1:8000',
    // Documents (issue 6). Sizes are bytes; the limit is enforced while the upload streams.
    documentMaxBytes: int(env, 'DOCUMENT_MAX_BYTES', 10_485_760, 1_024, 1_073_741_824),
    // Per uploader, counting documents not deleted; 0 turns the quota off.
    documentQuotaBytes: int(env, 'DOCUMENT_QUOTA_BYTES', 1_073_741_824, 0, 1_099_511_627_776),
    // When set, content is stored encrypted (AES-256-GCM, a data key per file wrapped by this).
    documentsEncryptionKey: secretKey(env, 'DOCUMENTS_ENCRYPTION_KEY'),
    storageDriver,
    // Local driver: DATA_DIR/documents by default (a temporary directory when DATA_DIR is memory://).
    storageDir: optionalStr(env, 'STORAGE_DIR'),
    s3Bucket,
    s3Region: str(env, 'S3_REGION', 'us-east-1'),
    s3Endpoint: url(env, 'S3_ENDPOINT', ['http:', 'https:']),
    s3AccessKeyId: optionalStr(env, 'S3_ACCESS_KEY_ID'),
    s3SecretAccessKey: optionalStr(env, 'S3_SECRET_ACCESS_KEY'),
    s3ForcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', false),
    azureConnectionString,
    azureContainer: str(env, 'AZURE_STORAGE_CONTAINER', 'medcore-documents'),
    // Virus scanning: a clamd socket path or tcp://host:port. Unset = no scanning.
    clamavSocket: optionalStr(env, 'CLAMAV_SOCKET'),
    clamavTimeoutMs: int(env, 'CLAMAV_TIMEOUT_MS', 15_000, 100, 600_000),
    // With the daemon down an upload is refused (503) unless this is true (then kept unscanned).
    clamavFailOpen: bool(env, 'CLAMAV_FAIL_OPEN', false),
    // Assistant prompts: an OpenAI-compatible chat-completions endpoint. Unset = no generation.
    llmBaseUrl,
    llmModel,
    llmApiKey: optionalStr(env, 'LLM_API_KEY'),
    llmTimeoutMs: int(env, 'LLM_TIMEOUT_MS', 30_000, 100, 600_000),
    llmMaxAttempts: int(env, 'LLM_MAX_ATTEMPTS', 3, 1, 10),
    // How often each instance looks for prompts left pending by a stopped or crashed instance.
    llmResumeIntervalMs: int(env, 'LLM_RESUME_INTERVAL_MS', 60_000, 1_000, 3_600_000),
    // Prompts a user may create per UTC day; 0 turns the quota off.
    promptDailyQuota: int(env, 'PROMPT_DAILY_QUOTA', 100, 0, 1_000_000),
  });
}

export type Config = ReturnType<typeof loadConfig>;
