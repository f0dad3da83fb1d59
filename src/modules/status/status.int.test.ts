import { describe, expect, it } from 'vitest';
import {
  bearer,
  problemOf,
  unique,
  type TestApp,
  type TestUser,
  createUsers,
  useTestApp,
} from '../../../test/helpers.js';

let t: TestApp;
let admin: TestUser;
let plainUser: TestUser;
let guest: TestUser;

useTestApp(async (app) => {
  t = app;
  [admin, plainUser, guest] = await createUsers(t.app, 'admin', 'user', 'guest');
});

interface StatusCheckBody {
  id: string;
  client_name: string;
  timestamp: string;
}
interface PageBody {
  items: StatusCheckBody[];
  next_cursor: string | null;
}

function post(token: string, payload: unknown) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/status',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });
}

function list(token: string, query = '') {
  return t.app.inject({ method: 'GET', url: `/api/v1/status${query}`, headers: bearer(token) });
}

describe('POST /status', () => {
  it('records a check: 201 {id, client_name, timestamp}', async () => {
    const before = Date.now();
    const res = await post(plainUser.accessToken, { client_name: 'front-desk-pc' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<StatusCheckBody>();
    expect(Object.keys(body).sort()).toEqual(['client_name', 'id', 'timestamp']);
    expect(body.client_name).toBe('front-desk-pc');
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(body.timestamp).getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(body.timestamp.endsWith('Z')).toBe(true);
  });

  it('is refused to guests (403) but guests may list (200)', async () => {
    const res = await post(guest.accessToken, { client_name: 'guest-pc' });
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).code).toBe('forbidden');
    const listed = await list(guest.accessToken);
    expect(listed.statusCode).toBe(200);
  });

  it('needs a token', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/status', payload: {} });
    expect(res.statusCode).toBe(401);
  });

  it.each([
    ['missing client_name', {}],
    ['empty client_name', { client_name: '' }],
    ['blank client_name', { client_name: '   ' }],
    ['too long client_name', { client_name: 'x'.repeat(201) }],
    ['NUL in client_name', { client_name: 'pc\u0000one' }],
    ['a number for client_name', { client_name: 42 }],
    ['an unknown property', { client_name: 'pc', extra: true }],
  ])('400 on %s', async (_name, payload) => {
    const res = await post(admin.accessToken, payload);
    expect(res.statusCode, res.body).toBe(400);
    expect(problemOf(res).code).toBe('validation_failed');
  });
});

describe('GET /status', () => {
  it('lists newest first and pages with limit/cursor', async () => {
    const names = [unique('pc'), unique('pc'), unique('pc')];
    for (const name of names) {
      expect((await post(admin.accessToken, { client_name: name })).statusCode).toBe(201);
    }
    const first = await list(plainUser.accessToken, '?limit=2');
    expect(first.statusCode).toBe(200);
    const page1 = first.json<PageBody>();
    expect(page1.items.map((i) => i.client_name)).toEqual([names[2], names[1]]);
    expect(page1.next_cursor).not.toBeNull();
    const second = await list(plainUser.accessToken, `?limit=2&cursor=${page1.next_cursor ?? ''}`);
    const page2 = second.json<PageBody>();
    expect(page2.items[0]?.client_name).toBe(names[0]);
    const ids = [...page1.items, ...page2.items].map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('ends with next_cursor null', async () => {
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null && pages < 50) {
      const res = await list(admin.accessToken, `?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      cursor = res.json<PageBody>().next_cursor;
      pages += 1;
    }
    expect(cursor).toBeNull();
  });

  it.each([
    ['a bad cursor', '?cursor=bm90LWpzb24'],
    ['limit 0', '?limit=0'],
    ['limit 101', '?limit=101'],
    ['an unknown parameter', '?sort=asc'],
  ])('400 on %s', async (_name, query) => {
    const res = await list(admin.accessToken, query);
    expect(res.statusCode, res.body).toBe(400);
    expect(problemOf(res).status).toBe(400);
  });
});
