import type { Config } from './config.js';
import type { Db } from './db/client.js';
import type { Clock } from './lib/clock.js';
import type { TokenSigner } from './modules/auth/tokens.js';

/** What every use case may depend on; built once in buildApp and passed explicitly. */
export interface AppContext {
  readonly config: Config;
  readonly db: Db;
  readonly clock: Clock;
  readonly tokens: TokenSigner;
}

/** Facts about the HTTP request that use cases record (sessions, later the audit trail). */
export interface RequestMeta {
  requestId: string;
  ip: string;
  userAgent: string | undefined;
}
