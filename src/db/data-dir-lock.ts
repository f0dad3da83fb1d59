import lockfile from 'proper-lockfile';

export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string) {
    super(
      `Another MedCore process is using the data directory ${dataDir}. ` +
        'PGlite is single-process: stop the other process, use another DATA_DIR, ' +
        'or set DATABASE_URL to share PostgreSQL between instances.',
    );
    this.name = 'DataDirLockedError';
  }
}

/**
 * Exclusive lock on the embedded data directory. The lock is refreshed every 2 s and counts as
 * stale after 6 s, so a process killed with -9 frees the directory within seconds; we retry just
 * long enough to take over such a stale lock before declaring the directory busy.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(dataDir, {
      lockfilePath: `${dataDir}/medcore.lock`,
      stale: 6_000,
      update: 2_000,
      retries: { retries: 7, minTimeout: 1_000, maxTimeout: 1_000 },
      onCompromised: (error) => {
        // Someone else took the directory: continuing would corrupt data, so stop now.
        console.error(`medcore: data directory lock lost (${error.message}); exiting`);
        process.exit(70);
      },
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'ELOCKED') throw new DataDirLockedError(dataDir);
    throw error;
  }
}
