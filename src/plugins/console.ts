import fastifyStatic from '@fastify/static';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { rootDir } from '../db/paths.js';
import { homePlugin } from './home.js';
import { consoleSecurityHeaders } from './security.js';

export interface ConsolePluginOptions {
  /** Where Vite put the built console (CONSOLE_DIR); relative paths start at the install root. */
  dir: string;
  /** For the home page that stands in when no console is built. */
  docsEnabled: boolean;
}

/** The page and unhashed files: always revalidated (ETag), so a new build shows at once. */
const REVALIDATE = 'no-cache';

/** Paths that belong to the service, never to the console's client-side router. */
const servicePaths = ['/api', '/docs', '/openapi.json', '/metrics', '/assets'];

function isServicePath(path: string): boolean {
  // /health, /health/ready and whatever probe comes next.
  if (path.startsWith('/health')) return true;
  return servicePaths.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** Whether the Accept header asks for HTML (a browser navigating), with a quality above zero. */
export function acceptsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== 'text/html') return false;
    const q = params.find((param) => param.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/**
 * The staff console at `/`, when it is built (CONSOLE_DIR/index.html exists at start; else the
 * home page of home.ts stays): its hashed files under /assets/ with a year's immutable cache,
 * the few unhashed files of Vite's public folder (favicon) revalidated, and index.html, with
 * no-cache and the console's CSP, for `/` and for any GET of a client-side route: a path the
 * service does not own, asked for by a browser (Accept: text/html). Everything else that no route
 * matches is still the problem+json 404.
 */
export const consolePlugin = fp(async (app: FastifyInstance, opts: ConsolePluginOptions) => {
  const dir = resolve(rootDir, opts.dir);
  if (!existsSync(join(dir, 'index.html'))) {
    await app.register(homePlugin, { docsEnabled: opts.docsEnabled });
    return;
  }
  // Files beside index.html (favicon, robots.txt), read once: a new build comes with a restart.
  const topFiles = new Set(
    readdirSync(dir, { withFileTypes: true })
      .filter(
        (entry) => entry.isFile() && entry.name !== 'index.html' && !entry.name.startsWith('.'),
      )
      .map((entry) => `/${entry.name}`),
  );

  await app.register(fastifyStatic, {
    root: join(dir, 'assets'),
    prefix: '/assets/',
    // A missing asset is the 404 problem, never the page (a script must not get HTML).
    index: false,
    dotfiles: 'ignore',
    // Hashed file names change with their content: `public, max-age=31536000, immutable`.
    maxAge: '365d',
    immutable: true,
  });

  const page = (reply: FastifyReply) =>
    reply
      .headers(consoleSecurityHeaders)
      .header('cache-control', REVALIDATE)
      .sendFile('index.html', dir, { cacheControl: false });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (path === '/' || path === '/index.html') return page(reply);
    if (topFiles.has(path)) {
      return reply.header('cache-control', REVALIDATE).sendFile(path.slice(1), dir, {
        cacheControl: false,
      });
    }
    if (!isServicePath(path) && acceptsHtml(request.headers.accept)) return page(reply);
    // The app's 404 problem, as if no route had matched (metrics label it unmatched too).
    reply.callNotFound();
    return reply;
  };
  const route = { schema: { hide: true }, config: { access: 'public' } } as const;
  app.get('/', route, handler);
  // The router tries this only when no other route matches.
  app.get('/*', route, handler);
});
