import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestApp, type TestApp } from './helpers.js';

/**
 * Apps with different configurations, opened one after another on the same data: a PGlite data
 * directory on disk, or on PostgreSQL the first app's database. Migrating a fresh database is
 * most of the cost of building an app on PGlite (seconds); later apps find it migrated. It is
 * also how a test restarts "the same" app with a new configuration.
 */
export interface AppSeries {
  /** Closes the app opened before, if any, and opens one with `env` on the same data. */
  open(env?: Record<string, string>): Promise<TestApp>;
  /** Closes the last app and removes the data. */
  close(): Promise<void>;
}

export function appSeries(): AppSeries {
  const dataDir = mkdtempSync(join(tmpdir(), 'medcore-app-series-'));
  // The first app's close() drops the PostgreSQL database the series shares: it runs last.
  let owner: TestApp | undefined;
  let current: TestApp | undefined;
  const closeCurrent = async () => {
    const app = current;
    current = undefined;
    if (app === undefined) return;
    await (app === owner ? app.app.close() : app.close());
  };
  return {
    async open(env = {}) {
      await closeCurrent();
      const shared = owner?.config.databaseUrl;
      current = await buildTestApp({
        DATA_DIR: dataDir,
        ...(shared === undefined ? {} : { DATABASE_URL: shared }),
        ...env,
      });
      owner ??= current;
      return current;
    },
    async close() {
      await closeCurrent();
      await owner?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
