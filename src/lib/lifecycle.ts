/**
 * Where the process is in its life, shared by readiness, the server's signal handling and
 * anything holding long-lived connections (event streams).
 *
 * Shutdown (src/server.ts): `beginShutdown()` flips `shuttingDown` (readiness answers 503 at once)
 * and calls every `onShutdown` listener, e.g. an event stream telling its clients to reconnect
 * elsewhere and closing, so the server's close does not wait on it. The server keeps serving
 * through SHUTDOWN_DELAY_MS, so a load balancer polling readiness stops sending before
 * connections are refused; then in-flight requests finish and the process exits.
 */
export interface Lifecycle {
  /** True from the first shutdown signal on (tests may set it directly). */
  shuttingDown: boolean;
  onShutdown(listener: () => void): void;
  beginShutdown(): void;
}

export function createLifecycle(): Lifecycle {
  const listeners: (() => void)[] = [];
  let begun = false;
  const lifecycle: Lifecycle = {
    shuttingDown: false,
    onShutdown(listener) {
      if (begun) listener();
      else listeners.push(listener);
    },
    beginShutdown() {
      lifecycle.shuttingDown = true;
      if (begun) return;
      begun = true;
      for (const listener of listeners.splice(0)) {
        try {
          listener();
        } catch {
          // One listener failing must not keep the others from hearing it.
        }
      }
    },
  };
  return lifecycle;
}
