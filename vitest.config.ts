import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Three projects: `unit` (no app, no database: seconds), `integration` (*.int.test.ts: each file
// builds its own app on its own database) and `e2e` (*.e2e.test.ts: a real browser against the
// built service running as its own process). `vitest run` runs all three; `--project unit` one.
export default defineConfig({
  // The console's modules import the typed client by this alias, as in console/vite.config.ts.
  resolve: {
    alias: {
      '@medcore/client': fileURLToPath(new URL('./client/src/index.ts', import.meta.url)),
    },
  },
  test: {
    // Each test file builds its own app on its own database; forks keep native modules isolated.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // console/src: the staff console's DOM-free logic (session, dates, problems, i18n).
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'console/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/*.e2e.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['src/**/*.int.test.ts', 'test/**/*.int.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          // Builds once and starts the one server every e2e file talks to (test/e2e/README.md).
          globalSetup: ['test/e2e/global-setup.ts'],
          // A browser step waits for the page, and the page for a loaded machine.
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
