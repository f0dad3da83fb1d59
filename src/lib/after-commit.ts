/**
 * Work that must wait until a transaction has committed (waking the outbox dispatcher: before
 * the commit it would find nothing). Code inside a transaction calls `afterCommit(tx, fn)`; the
 * one who owns the transaction runs it through `inTransaction`, which calls the functions once
 * the commit is done, and never after a rollback. A transaction opened some other way simply
 * never runs them: whatever they would speed up must also happen without them (the dispatcher
 * polls).
 */
const pending = new WeakMap<object, (() => void)[]>();

export function afterCommit(tx: object, fn: () => void): void {
  const list = pending.get(tx);
  if (list === undefined) pending.set(tx, [fn]);
  else list.push(fn);
}

interface Transactional<Tx> {
  transaction<T>(run: (tx: Tx) => Promise<T>): Promise<T>;
}

/** `db.transaction(run)`, then the `afterCommit` functions `run` registered on its handle. */
export async function inTransaction<Tx extends object, T>(
  db: Transactional<Tx>,
  run: (tx: Tx) => Promise<T>,
): Promise<T> {
  let handle: Tx | undefined;
  const result = await db.transaction((tx) => {
    handle = tx;
    return run(tx);
  });
  const list = handle === undefined ? undefined : pending.get(handle);
  if (list !== undefined && handle !== undefined) {
    pending.delete(handle);
    for (const fn of list) {
      try {
        fn();
      } catch {
        // A wake-up that fails costs latency only; the committed change stands.
      }
    }
  }
  return result;
}
