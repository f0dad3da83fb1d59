import type { DbOrTx } from './client.js';

/**
 * Hot-path queries, built once per database handle instead of once per call.
 *
 * drizzle builds a query's SQL text from its column objects on every call, and the server
 * parses and plans it again each time. A prepared query keeps the text, and its name lets
 * node-postgres parse it once per connection (a named statement; see nameStatementsPerClient in
 * pg-pool.ts for why the wire name differs per connection). On `GET /users/me`, one statement,
 * this took the route from about 3,200 to 6,700 req/s on PostgreSQL (bench/README.md).
 *
 * Values go in as `sql.placeholder('x')` and are passed to `execute({ x })`. A transaction is a
 * new handle each time, so inside one the query is built per call; the server-side statement
 * is still reused. Names must be unique per query text: the same name with two texts on one
 * connection is refused by the server.
 */
const built = new WeakMap<object, Map<string, unknown>>();

export function prepared<P>(
  db: DbOrTx,
  name: string,
  build: (db: DbOrTx) => { prepare(name: string): P },
): P {
  let queries = built.get(db);
  if (queries === undefined) {
    queries = new Map();
    built.set(db, queries);
  }
  let query = queries.get(name) as P | undefined;
  if (query === undefined) {
    query = build(db).prepare(name);
    queries.set(name, query);
  }
  return query;
}
