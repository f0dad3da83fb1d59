/**
 * What the console session tests share: reading the Set-Cookie lines of an answer (attributes as
 * sent, not as a cookie jar would keep them) and calling the cookie routes as a browser would.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

export const REFRESH = 'medcore_refresh';
export const CSRF = 'medcore_csrf';
export const REFRESH_PATH = '/api/v1/auth/console';

export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names in lower case -> value ('' for flags such as HttpOnly). */
  attributes: Map<string, string>;
}

/** Every Set-Cookie line of an answer, by cookie name. */
export function setCookies(res: LightMyRequestResponse): Map<string, SetCookie> {
  const header = res.headers['set-cookie'];
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const cookies = new Map<string, SetCookie>();
  for (const line of lines) {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at), {
      name: pair.slice(0, at),
      value: pair.slice(at + 1),
      attributes: new Map(
        attributes.map((attribute) => {
          const eq = attribute.indexOf('=');
          return eq < 0
            ? [attribute.toLowerCase(), '']
            : [attribute.slice(0, eq).toLowerCase(), attribute.slice(eq + 1)];
        }),
      ),
    });
  }
  return cookies;
}

/** The two cookies of a sign-in or refresh, checked to be set (not cleared). */
export function consoleCookies(res: LightMyRequestResponse): { refresh: string; csrf: string } {
  const cookies = setCookies(res);
  const refresh = cookies.get(REFRESH)?.value ?? '';
  const csrf = cookies.get(CSRF)?.value ?? '';
  expect(refresh, 'refresh cookie').not.toBe('');
  expect(csrf, 'csrf cookie').not.toBe('');
  return { refresh, csrf };
}

/** Both cookies are removed: empty value and an expiry in the past (or Max-Age=0). */
export function expectCleared(res: LightMyRequestResponse): void {
  const cookies = setCookies(res);
  for (const [name, path] of [
    [REFRESH, REFRESH_PATH],
    [CSRF, '/'],
  ] as const) {
    const cookie = cookies.get(name);
    expect(cookie, `${name} cleared`).toBeDefined();
    expect(cookie?.value).toBe('');
    expect(cookie?.attributes.get('path')).toBe(path);
    const expires = cookie?.attributes.get('expires');
    const maxAge = cookie?.attributes.get('max-age');
    expect(
      maxAge === '0' || (expires !== undefined && Date.parse(expires) <= Date.now()),
      `${name} expired`,
    ).toBe(true);
  }
}

/** The body must never carry a refresh token: no such key, and not the cookie's value. */
export function expectNoRefreshTokenIn(res: LightMyRequestResponse, token?: string): void {
  expect(res.body).not.toMatch(/refresh_token/);
  if (token !== undefined) expect(res.body).not.toContain(token);
}

/** POST /auth/console/<action> with the cookies a browser would send and an optional CSRF header. */
export function consolePost(
  app: FastifyInstance,
  action: 'login' | 'mfa' | 'refresh' | 'logout',
  options: { body?: object; refresh?: string; csrf?: string; csrfCookie?: string } = {},
) {
  const cookies = {
    ...(options.refresh === undefined ? {} : { [REFRESH]: options.refresh }),
    ...(options.csrfCookie === undefined ? {} : { [CSRF]: options.csrfCookie }),
  };
  return app.inject({
    method: 'POST',
    url: `${REFRESH_PATH}/${action}`,
    headers: options.csrf === undefined ? {} : { 'x-csrf-token': options.csrf },
    cookies,
    ...(options.body === undefined ? {} : { payload: options.body }),
  });
}
