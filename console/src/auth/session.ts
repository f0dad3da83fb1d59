/**
 * The console's session, outside React: the access token lives only in this object's memory
 * (never localStorage or sessionStorage); the refresh token is an HttpOnly cookie the page never
 * sees. A readable `medcore_csrf` cookie is echoed in `X-CSRF-Token` on refresh and sign-out.
 * The token is refreshed shortly before it expires, on page load, and once after a 401.
 */

export type Role = 'admin' | 'doctor' | 'nurse' | 'receptionist' | 'user' | 'guest';

export interface SessionUser {
  id: string;
  email: string;
  username: string;
  role: Role;
}

/** A successful sign-in, MFA step or refresh. */
export interface Grant {
  access_token: string;
  expires_in: number;
  user: SessionUser;
}

export interface MfaChallenge {
  mfa_required: true;
  mfa_token: string;
  expires_in: number;
}

/** A call's outcome: what it answered, or its status and problem (status 0: no answer). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; status: number; problem?: unknown };

/** The console's auth endpoints (POST /api/v1/auth/console/...), behind an interface for tests. */
export interface AuthApi {
  login(
    body: { email: string } | { username: string },
    password: string,
  ): Promise<Outcome<Grant | MfaChallenge>>;
  mfa(mfaToken: string, code: string): Promise<Outcome<Grant>>;
  refresh(csrf: string): Promise<Outcome<Grant>>;
  logout(csrf: string, accessToken: string | undefined): Promise<Outcome<null>>;
}

/** Why the sign-in screen shows: the session ran out, or the user signed out (here or everywhere). */
export type SignedOutReason = 'expired' | 'signed-out' | 'signed-out-everywhere';

export type SessionState =
  | { status: 'starting' }
  | { status: 'signed-out'; reason?: SignedOutReason }
  | { status: 'signed-in'; user: SessionUser };

export type SignInResult =
  | { kind: 'signed-in' }
  | { kind: 'mfa'; mfaToken: string }
  | { kind: 'failed'; status: number; problem?: unknown };

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** When to refresh a token that lives `expiresInS` seconds: a minute early, or at half-life. */
export function refreshDelayMs(expiresInS: number): number {
  const lifetime = expiresInS * 1000;
  return Math.max(1_000, Math.max(lifetime / 2, lifetime - 60_000));
}

/** After a refresh that got no answer (network down, server restarting): try again this soon. */
export const RETRY_AFTER_NETWORK_FAILURE_MS = 10_000;

export class SessionStore {
  private state: SessionState = { status: 'starting' };
  private token: string | undefined;
  private timer: unknown;
  private inFlight: Promise<boolean> | undefined;
  /** Between forgetting the token and the console logout's answer: no refresh may run. */
  private signingOut = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly api: AuthApi,
    private readonly readCsrf: () => string | undefined,
    private readonly timers: Timers = globalThis,
  ) {}

  getState = (): SessionState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  accessToken = (): string | undefined => this.token;

  /** On page load: resume the session the refresh cookie holds, if any. */
  async start(): Promise<void> {
    if (!this.readCsrf()) {
      this.setState({ status: 'signed-out' });
      return;
    }
    await this.refresh();
    if (this.state.status === 'starting') this.setState({ status: 'signed-out' });
  }

  async signIn(identifier: string, password: string): Promise<SignInResult> {
    const who = identifier.includes('@')
      ? { email: identifier.trim() }
      : { username: identifier.trim() };
    const outcome = await this.api.login(who, password);
    if (!outcome.ok) return { kind: 'failed', status: outcome.status, problem: outcome.problem };
    if ('mfa_required' in outcome.value) return { kind: 'mfa', mfaToken: outcome.value.mfa_token };
    this.accept(outcome.value);
    return { kind: 'signed-in' };
  }

  async verifyMfa(mfaToken: string, code: string): Promise<SignInResult> {
    const outcome = await this.api.mfa(mfaToken, code.replace(/\s+/g, ''));
    if (!outcome.ok) return { kind: 'failed', status: outcome.status, problem: outcome.problem };
    this.accept(outcome.value);
    return { kind: 'signed-in' };
  }

  /**
   * A new access token from the refresh cookie. Concurrent callers (several requests that met a
   * 401 at once, the timer) share one call: the server rotates the cookie on every refresh.
   * False when there is no session any more (then the state says it expired).
   */
  refresh(): Promise<boolean> {
    if (this.signingOut) return Promise.resolve(false);
    this.inFlight ??= this.doRefresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * Ends the session here: the token is forgotten at once, the console's logout clears the
   * cookies (also when the server already ended the session, as after "sign out everywhere" or
   * revoking this session from the Account screen), and then the sign-in screen shows. Shown
   * before the logout's answer, a reload in between still found the cookie, refreshed in vain
   * and greeted the user with "your session has expired".
   */
  async signOut(reason: Exclude<SignedOutReason, 'expired'> = 'signed-out'): Promise<void> {
    const csrf = this.readCsrf();
    const token = this.token;
    this.clear();
    this.signingOut = true;
    try {
      // The local session is gone whatever the server says; the call revokes the refresh family.
      if (csrf) await this.api.logout(csrf, token);
    } finally {
      this.signingOut = false;
      this.setState({ status: 'signed-out', reason });
    }
  }

  private async doRefresh(): Promise<boolean> {
    const csrf = this.readCsrf();
    if (!csrf) {
      this.expire();
      return false;
    }
    const outcome = await this.api.refresh(csrf);
    if (outcome.ok) {
      this.accept(outcome.value);
      return true;
    }
    if (outcome.status === 0 || outcome.status >= 500 || outcome.status === 429) {
      // No verdict on the session: keep what we have and try again soon.
      this.schedule(RETRY_AFTER_NETWORK_FAILURE_MS);
      return false;
    }
    this.expire();
    return false;
  }

  private expire(): void {
    const wasIn = this.state.status === 'signed-in' || this.state.status === 'starting';
    this.clear();
    this.setState(wasIn ? { status: 'signed-out', reason: 'expired' } : this.state);
  }

  private accept(grant: Grant): void {
    this.token = grant.access_token;
    this.schedule(refreshDelayMs(grant.expires_in));
    const previous = this.state;
    // Keep the state object when nothing a screen shows changed (no re-render per refresh).
    if (
      previous.status === 'signed-in' &&
      previous.user.id === grant.user.id &&
      previous.user.role === grant.user.role
    ) {
      return;
    }
    this.setState({ status: 'signed-in', user: grant.user });
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, ms);
  }

  private clear(): void {
    this.token = undefined;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private setState(state: SessionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.listeners) listener();
  }
}

/**
 * A fetch that, when an authenticated request meets a 401 (the access token expired or was
 * revoked), refreshes the session once and retries the request once with the new token.
 */
export function fetchWithRefresh(
  base: typeof fetch,
  session: Pick<SessionStore, 'refresh' | 'accessToken'>,
): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const spare = request.clone();
    const response = await base(request);
    if (response.status !== 401 || !request.headers.has('authorization')) return response;
    if (!(await session.refresh())) return response;
    const token = session.accessToken();
    if (token === undefined) return response;
    spare.headers.set('authorization', `Bearer ${token}`);
    return base(spare);
  };
}

/** The value of a cookie the page may read (the CSRF token), from `document.cookie`. */
export function readCookie(cookies: string, name: string): string | undefined {
  for (const part of cookies.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}
