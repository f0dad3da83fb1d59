import type { Config } from './config.js';
import type { Db } from './db/client.js';
import type { BackgroundTasks } from './lib/background.js';
import type { Clock } from './lib/clock.js';
import type { Lifecycle } from './lib/lifecycle.js';
import type { CsrfTokens } from './infra/csrf.js';
import type { Mailer } from './infra/mailer.js';
import type { Metrics } from './infra/metrics.js';
import type { VirusScanner } from './infra/scan/clamav.js';
import type { SessionCache } from './infra/session-cache.js';
import type { DocumentStorage } from './infra/storage/storage.js';
import type { TokenSigner } from './infra/tokens.js';
import type { SessionState } from './modules/auth/sessions/authenticate.js';
import type { Outbox } from './modules/outbox/index.js';
import type { AccountCredentials } from './modules/users/account-credentials.js';

/**
 * Everything buildApp provides to use cases, built once and passed explicitly. A use case takes
 * only the part it uses, `ctx: Pick<AppContext, 'db' | 'clock'>`, and the compiler holds every
 * caller to it: the command line builds a database and a clock, not a token signer or a mailer.
 * New infrastructure goes in src/infra/, gets a field here and is built (and closed) in buildApp.
 */
export interface AppContext {
  readonly config: Config;
  readonly db: Db;
  readonly clock: Clock;
  readonly tokens: TokenSigner;
  /** Seals TOTP secrets and keys backup-code hashes (MFA_ENCRYPTION_KEY or derived; infra/secret.ts). */
  readonly mfaKey: string;
  /** The staff console's CSRF tokens, bound to a session and keyed from the JWT secret (infra/csrf.ts). */
  readonly csrf: CsrfTokens;
  readonly mailer: Mailer;
  /** Work started by a request but not awaited by it (drained before the database closes). */
  readonly background: BackgroundTasks;
  /** Session states remembered for at most AUTH_CACHE_MS; cleared by every revocation. */
  readonly sessionCache: SessionCache<SessionState>;
  /** Document content (STORAGE_DRIVER; encrypted when DOCUMENTS_ENCRYPTION_KEY is set). */
  readonly storage: DocumentStorage;
  /**
   * This instance's Prometheus registry (`GET /metrics`): modules add counters and scrape-time
   * gauges through it (infra/metrics.ts).
   */
  readonly metrics: Metrics;
  /**
   * Shutdown: `shuttingDown` and `onShutdown(listener)`, called on SIGTERM before the server
   * closes (an event stream tells its clients to reconnect and ends; lib/lifecycle.ts).
   */
  readonly lifecycle: Lifecycle;
  /** ClamAV, when CLAMAV_SOCKET is set; uploads are scanned before they are kept. */
  readonly scanner: VirusScanner | undefined;
  /**
   * Auth's answer to account administration (revoke credentials, confirm a password, reset MFA):
   * the users module reaches auth only through it, so the two never import each other.
   */
  readonly credentials: AccountCredentials;
  /**
   * The outbox of this instance: modules register event consumers with it (at registration),
   * event streams read its live feed. Events themselves are written with `appendEvent`.
   */
  readonly outbox: Outbox;
}

/** Facts about the HTTP request that use cases record (sessions, later the audit trail). */
export interface RequestMeta {
  requestId: string;
  ip: string;
  userAgent: string | undefined;
}
