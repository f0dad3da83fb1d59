import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Two projects: `unit` (no app, no database: seconds) and `integration` (*.int.test.ts: each file
// builds its own app on its own database). `vitest run` runs both; `--project unit` one.
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
          exclude: ['**/*.int.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['src/**/*.int.test.ts', 'test/**/*.int.test.ts'],
        },
      },
    ],
  },
});
