import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// The staff console: built into ../dist/console, which the service serves at `/`. In development
// (`vite --config console/vite.config.ts`) API calls go to a running service (MEDCORE_API, default
// http://localhost:8000) through the dev server, so the page stays same-origin as in production.
export default defineConfig({
  root: here('.'),
  plugins: [react()],
  resolve: {
    alias: { '@medcore/client': here('../client/src/index.ts') },
  },
  build: {
    outDir: here('../dist/console'),
    emptyOutDir: true,
    // Source maps off: the bundle is served to staff browsers, the sources are in the repository.
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': process.env['MEDCORE_API'] ?? 'http://localhost:8000',
      '/health': process.env['MEDCORE_API'] ?? 'http://localhost:8000',
      '/docs': process.env['MEDCORE_API'] ?? 'http://localhost:8000',
    },
  },
});
