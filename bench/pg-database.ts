/**
 * A scratch PostgreSQL database for one benchmark run, so runs are repeatable and the database
 * named in BENCH_DATABASE_URL is never written to: a new database `medcore_bench_<random>` is
 * created on the same server (connecting with that URL's credentials to the database it names),
 * and dropped (WITH (FORCE): the server may still hold connections) at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the scratch database; returns its URL and how to drop it. */
export async function createScratchDatabase(
  serverUrl: string,
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  // Random hex only: safe to splice into the statement (identifiers cannot be parameters).
  const name = `medcore_bench_${randomBytes(5).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await withClient(serverUrl, (client) =>
        client.query(`drop database if exists ${name} with (force)`),
      );
    },
  };
}
