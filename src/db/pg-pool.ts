import pg from 'pg';

export interface PgTimeouts {
  /** Connecting, and waiting for a free pooled connection. */
  connectMs: number;
  /** Client side: how long to wait for any answer; the only defence against a frozen server. */
  queryMs: number;
  /** Server side: statement_timeout and idle_in_transaction_session_timeout. */
  statementMs: number;
}

/**
 * A node-postgres pool that fails fast and heals itself when the server goes away:
 * - refused or dropped connections reject at once (nothing queues for a dead server);
 * - a frozen server (accepts, never answers) is caught by the connect and query timeouts;
 * - broken connections are discarded, so the first request after the server is back gets a
 *   fresh connection: no restart, no stale socket served to a later request.
 */
export function createPgPool(
  url: string,
  options: { max: number; applicationName: string; keepIdle?: boolean } & PgTimeouts,
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max,
    // The embedded engine keeps named statements of closed connections (see
    // nameStatementsPerClient); connections that stay open keep that bounded.
    ...(options.keepIdle ? { idleTimeoutMillis: 0 } : {}),
    connectionTimeoutMillis: options.connectMs,
    query_timeout: options.queryMs,
    statement_timeout: options.statementMs,
    idle_in_transaction_session_timeout: options.statementMs,
    application_name: options.applicationName,
    // Detect a peer that vanished without closing (power loss, network partition) on idle sockets.
    keepAlive: true,
  });
  // An idle client losing its server must not crash the process; the pool drops it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    // pg-pool listens for errors only on idle clients. A client checked out by a request (a
    // transaction) whose server restarts emits 'error' with no listener, which would kill the
    // process; the request itself still gets the error from its query.
    client.on('error', () => undefined);
    guardQueries(client);
  });
  return pool;
}

/** A client opened outside the pool, for jobs (migrations) that need their own timeouts. */
export async function connectPgClient(
  url: string,
  options: { applicationName: string } & PgTimeouts,
): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: options.connectMs,
    query_timeout: options.queryMs,
    statement_timeout: options.statementMs,
    idle_in_transaction_session_timeout: options.statementMs,
    application_name: options.applicationName,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

type QueryFn = (...args: unknown[]) => unknown;
type Callback = (error: unknown, result?: unknown) => void;

function isBegin(args: unknown[]): boolean {
  const first = args[0];
  const text = typeof first === 'string' ? first : (first as { text?: unknown } | null)?.text;
  return typeof text === 'string' && /^\s*begin\b/i.test(text);
}

/**
 * Wraps a pooled client's `query` to repair two ways an outage would otherwise outlive itself:
 *
 * - pg's client-side query timeout rejects the caller but keeps the connection waiting for the
 *   lost reply, so every later query on it (the ROLLBACK of the failed transaction, the next
 *   request's BEGIN) would wait for its own timeout too. Destroying the socket makes those fail
 *   at once and marks the client unqueryable, so the pool discards it on release.
 * - drizzle-orm's node-postgres `transaction()` (0.45) sends BEGIN before its try/finally, so a
 *   failed BEGIN never releases the connection. Every transaction started against a dead or
 *   frozen server would leak one, until the pool is full of them and nothing works even after
 *   the server is back. A failed BEGIN therefore releases the client (with the error, so the pool
 *   drops it), and a later release by a fixed drizzle becomes a no-op instead of a throw.
 */
function guardQueries(client: pg.PoolClient): void {
  const query = nameStatementsPerClient(client.query.bind(client));
  const onTimeout = (error: unknown) => {
    if (error instanceof Error && error.message === 'Query read timeout') {
      client.connection.stream.destroy();
    }
  };
  (client as unknown as { query: QueryFn }).query = (...args) => {
    const last = args.at(-1);
    if (typeof last === 'function') {
      // Callback style, as pool.query uses (it releases the client itself): destroy the socket
      // before the pool sees the error.
      const callback = last as Callback;
      args[args.length - 1] = (error: unknown, result?: unknown) => {
        if (error) onTimeout(error);
        callback(error, result);
      };
      return query(...args);
    }
    const begin = isBegin(args);
    const result = query(...args);
    // Registered before the caller's handlers, so this runs before a ROLLBACK is sent.
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        onTimeout(error);
        if (begin) releaseAfterFailedBegin(client, error);
      });
    }
    return result;
  };
}

let clientsSeen = 0;
// Processes share the embedded database's session too (the CLI beside a running server): the
// names carry a tag of this process as well.
const processTag = Math.floor(Math.random() * 36 ** 4).toString(36);

/**
 * Gives each connection its own wire name for a named (prepared) statement: `user_by_id`
 * becomes `user_by_id.7` on the seventh connection. node-postgres remembers per connection
 * which names it has parsed; on PostgreSQL each connection is its own session, but the embedded
 * database serves every connection from one session, where a second connection parsing the same
 * name would be refused ("prepared statement already exists"). The same holds for connections of
 * another process (a CLI command beside the server), hence the process tag: `user_by_id.k3f9.7`.
 */
function nameStatementsPerClient(query: QueryFn): QueryFn {
  const suffix = `.${processTag}.${String(++clientsSeen)}`;
  return (...args) => {
    const config = args[0];
    // A plain query config ({ name, text }), as drizzle passes; a submittable is left alone.
    if (typeof config === 'object' && config !== null && !('submit' in config)) {
      const name = (config as { name?: unknown }).name;
      if (typeof name === 'string' && name !== '') args[0] = { ...config, name: name + suffix };
    }
    return query(...args);
  };
}

function releaseAfterFailedBegin(client: pg.PoolClient, error: unknown): void {
  const release = client.release.bind(client);
  // pg-pool installs a fresh release function each time it hands the client out.
  client.release = () => undefined;
  release(error instanceof Error ? error : true);
}
