/**
 * A per-instance memory of session states (whatever auth keeps per session id) for at most
 * AUTH_CACHE_MS (<= 1 s), so a busy client does not cost one session lookup per request.
 * SECURITY.md lets revocation take up to 1 s to reach access tokens on every instance; that bound
 * is the TTL. On the instance that revokes, revocation is immediate: every revoke clears the
 * caches of this process and stops them remembering until the revoking transaction has surely
 * ended (revocations are rare).
 */
export class SessionCache<State = unknown> {
  private readonly entries = new Map<string, { state: State; until: number }>();
  // After a revocation, nothing is remembered for a while: the revoking transaction may not
  // have committed yet, and a lookup in that gap would otherwise keep the old state.
  private bypassUntil = 0;
  /** Lookups answered from memory, and lookups that had to go to the database (metrics). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {
    liveCaches.add(this);
  }

  get(sessionId: string): State | undefined {
    const state = this.lookup(sessionId);
    if (state === undefined) this.misses++;
    else this.hits++;
    return state;
  }

  private lookup(sessionId: string): State | undefined {
    if (performance.now() < this.bypassUntil) return undefined;
    const entry = this.entries.get(sessionId);
    if (entry === undefined) return undefined;
    if (entry.until <= performance.now()) {
      this.entries.delete(sessionId);
      return undefined;
    }
    return entry.state;
  }

  set(sessionId: string, state: State): void {
    if (this.ttlMs <= 0 || performance.now() < this.bypassUntil) return;
    // Oldest first out: a Map iterates in insertion order.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(sessionId, { state, until: performance.now() + this.ttlMs });
  }

  /** Forget everything, and remember nothing new until the revoking transaction is over. */
  clear(): void {
    this.entries.clear();
    this.bypassUntil = performance.now() + REVOCATION_SETTLE_MS;
  }

  close(): void {
    this.entries.clear();
    liveCaches.delete(this);
  }
}

const liveCaches = new Set<SessionCache>();

/** Longer than any transaction that revokes a session may stay open before it commits. */
const REVOCATION_SETTLE_MS = 3_000;

/** Called by every revocation: this process never serves a revoked session from memory. */
export function forgetCachedSessions(): void {
  for (const cache of liveCaches) cache.clear();
}
