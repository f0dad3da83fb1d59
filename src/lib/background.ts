/**
 * Work a request starts but does not wait for (e.g. the password-reset email, so that the answer
 * takes the same time whether or not the account exists). Tasks are tracked so that shutdown can
 * let them finish before the database closes.
 */
export interface BackgroundTasks {
  /**
   * Starts `task` and returns at once, unless `maxPending` tasks are already running: then the
   * caller waits for its own task, so a flood of requests cannot pile up unbounded work.
   * `onError` receives a task's failure; a background task has nobody else to tell.
   */
  run(task: () => Promise<void>, onError: (error: unknown) => void): Promise<void>;
  /**
   * Resolves once every task started so far, and any they started, has settled, or after
   * `timeoutMs` (shutdown must not hang on a stuck task; it then fails on its own and logs).
   */
  drain(timeoutMs?: number): Promise<void>;
  readonly pending: number;
}

export function createBackgroundTasks(maxPending = 100): BackgroundTasks {
  const running = new Set<Promise<void>>();
  return {
    get pending() {
      return running.size;
    },
    run(task, onError) {
      const overloaded = running.size >= maxPending;
      const settled: Promise<void> = Promise.resolve()
        .then(task)
        .catch((error: unknown) => {
          onError(error);
        })
        // A throwing onError must not become an unhandled rejection that kills the process.
        .catch(() => undefined)
        .finally(() => running.delete(settled));
      running.add(settled);
      return overloaded ? settled : Promise.resolve();
    },
    async drain(timeoutMs) {
      const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
      while (running.size > 0) {
        const left = deadline - Date.now();
        if (left <= 0) return;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((done) => {
          if (left !== Infinity) timer = setTimeout(done, left);
        });
        await Promise.race([Promise.allSettled([...running]), timeout]);
        clearTimeout(timer);
      }
    },
  };
}
