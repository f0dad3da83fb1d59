import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  createUser,
  problemOf,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';

let t: TestApp;
let admin: TestUser;
let doctor: TestUser;
let nurse: TestUser;
let plainUser: TestUser;
let guest: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  [admin, doctor, nurse, plainUser, guest] = await Promise.all([
    createUser(t.app, 'admin'),
    createUser(t.app, 'doctor'),
    createUser(t.app, 'nurse'),
    createUser(t.app, 'user'),
    createUser(t.app, 'guest'),
  ]);
});
afterAll(async () => {
  await t.close();
});

interface PromptBody {
  id: string;
  user_id: string;
  content: string;
  response: string | null;
  status: 'pending' | 'completed' | 'failed';
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  latency_ms: number | null;
  error: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}
interface PageBody {
  items: PromptBody[];
  next_cursor: string | null;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

function call(
  method: Method,
  url: string,
  token: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: {
      ...bearer(token),
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
}

async function newPrompt(user: TestUser, content = 'Summarise the ACE inhibitor guidance.') {
  const res = await call('POST', '/prompts', user.accessToken, { content });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PromptBody>();
}

describe('POST /prompts', () => {
  it('stores the prompt pending, with no response yet', async () => {
    const res = await call('POST', '/prompts', nurse.accessToken, {
      content: 'Line one\n\tline two',
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<PromptBody>();
    expect(body).toMatchObject({
      user_id: nurse.id,
      content: 'Line one\n\tline two',
      response: null,
      status: 'pending',
      model: null,
      prompt_tokens: null,
      completion_tokens: null,
      latency_ms: null,
      error: null,
      version: 1,
    });
    expect(res.headers.location).toBe(`/api/v1/prompts/${body.id}`);
    expect(res.headers.etag).toBe('"v1"');
    expect(body.created_at.endsWith('Z')).toBe(true);
    expect(body.updated_at.endsWith('Z')).toBe(true);
  });

  it('accepts exactly 20,000 characters', async () => {
    const res = await call('POST', '/prompts', plainUser.accessToken, {
      content: 'a'.repeat(20_000),
    });
    expect(res.statusCode).toBe(201);
  });

  it.each([
    ['missing content', {}],
    ['empty content', { content: '' }],
    ['blank content', { content: ' \n\t ' }],
    ['too long content', { content: 'a'.repeat(20_001) }],
    ['NUL in content', { content: 'hello\u0000world' }],
    ['another control character', { content: 'bell\u0007' }],
    ['a number for content', { content: 7 }],
    ['an unknown property', { content: 'hi', user_id: randomUUID() }],
  ])('400 on %s', async (_name, payload) => {
    const res = await call('POST', '/prompts', plainUser.accessToken, payload);
    expect(res.statusCode, res.body).toBe(400);
    const problem = problemOf(res);
    expect(problem.code).toBe('validation_failed');
  });

  it('names the field on NUL', async () => {
    const res = await call('POST', '/prompts', plainUser.accessToken, { content: 'a\u0000' });
    expect(
      problemOf(res)
        .errors?.map((e) => e.field)
        .join(' '),
    ).toMatch(/content/);
  });
});

describe('guests', () => {
  it.each([
    ['GET', '/prompts'],
    ['POST', '/prompts'],
    ['GET', `/prompts/${randomUUID()}`],
    ['PATCH', `/prompts/${randomUUID()}`],
    ['DELETE', `/prompts/${randomUUID()}`],
  ] as const)('%s %s is 403', async (method, url) => {
    const payload = method === 'POST' || method === 'PATCH' ? { content: 'hi' } : undefined;
    const res = await call(method, url, guest.accessToken, payload);
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).code).toBe('forbidden');
  });
});

describe('GET /prompts', () => {
  it('lists only the caller’s own, newest first, paged', async () => {
    const owner = await createUser(t.app, 'receptionist');
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await newPrompt(owner, `prompt ${i}`));
    await newPrompt(doctor, 'not the receptionist’s');
    const first = await call('GET', '/prompts?limit=2', owner.accessToken);
    expect(first.statusCode).toBe(200);
    const page1 = first.json<PageBody>();
    expect(page1.items.map((p) => p.content)).toEqual(['prompt 2', 'prompt 1']);
    expect(page1.next_cursor).not.toBeNull();
    const second = await call(
      'GET',
      `/prompts?limit=2&cursor=${page1.next_cursor ?? ''}`,
      owner.accessToken,
    );
    const page2 = second.json<PageBody>();
    expect(page2.items.map((p) => p.id)).toEqual([made[0]?.id]);
    expect(page2.next_cursor).toBeNull();
    // Own id as user_id is the same list.
    const own = await call('GET', `/prompts?user_id=${owner.id}`, owner.accessToken);
    expect(own.json<PageBody>().items).toHaveLength(3);
  });

  it('refuses other users’ prompts to non-admins (403, never silently narrowed)', async () => {
    for (const query of [`?user_id=${doctor.id}`, '?all=true']) {
      const res = await call('GET', `/prompts${query}`, nurse.accessToken);
      expect(res.statusCode, query).toBe(403);
    }
  });

  it('lets an admin read one user’s or everyone’s prompts', async () => {
    const mine = await newPrompt(plainUser, 'for the admin to see');
    const theirs = await newPrompt(doctor, 'also for the admin');
    const byUser = await call(
      'GET',
      `/prompts?user_id=${plainUser.id}&limit=100`,
      admin.accessToken,
    );
    expect(byUser.statusCode).toBe(200);
    const userItems = byUser.json<PageBody>().items;
    expect(userItems.map((p) => p.id)).toContain(mine.id);
    expect(userItems.every((p) => p.user_id === plainUser.id)).toBe(true);
    const all = await call('GET', '/prompts?all=true&limit=100', admin.accessToken);
    const allIds = all.json<PageBody>().items.map((p) => p.id);
    expect(allIds).toEqual(expect.arrayContaining([mine.id, theirs.id]));
    // Without a filter an admin sees only their own log.
    const own = await call('GET', '/prompts', admin.accessToken);
    expect(own.json<PageBody>().items.every((p) => p.user_id === admin.id)).toBe(true);
  });

  it.each([
    ['both user_id and all', () => `?all=true&user_id=${plainUser.id}`],
    ['a bad cursor', () => '?cursor=bm90LWpzb24'],
    ['a bad user_id', () => '?user_id=nope'],
    ['an unknown parameter', () => '?q=x'],
    ['limit 101', () => '?limit=101'],
  ])('400 on %s', async (_name, query) => {
    const res = await call('GET', `/prompts${query()}`, admin.accessToken);
    expect(res.statusCode, res.body).toBe(400);
  });
});

describe('GET/PATCH/DELETE /prompts/{id}', () => {
  it('the owner reads it, with an ETag', async () => {
    const prompt = await newPrompt(plainUser);
    const res = await call('GET', `/prompts/${prompt.id}`, plainUser.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.json<PromptBody>()).toEqual(prompt);
    expect(res.headers.etag).toBe('"v1"');
  });

  it('another user’s prompt is 404 for reads, edits and deletes', async () => {
    const prompt = await newPrompt(plainUser);
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const payload = method === 'PATCH' ? { content: 'hijacked' } : undefined;
      const res = await call(method, `/prompts/${prompt.id}`, doctor.accessToken, payload);
      expect(res.statusCode, method).toBe(404);
      expect(problemOf(res).code).toBe('not_found');
    }
    const still = await call('GET', `/prompts/${prompt.id}`, plainUser.accessToken);
    expect(still.json<PromptBody>().content).toBe(prompt.content);
  });

  it('an admin may read anyone’s prompt but not change or delete it (403)', async () => {
    const prompt = await newPrompt(nurse);
    const read = await call('GET', `/prompts/${prompt.id}`, admin.accessToken);
    expect(read.statusCode).toBe(200);
    expect(read.json<PromptBody>().user_id).toBe(nurse.id);
    const edit = await call('PATCH', `/prompts/${prompt.id}`, admin.accessToken, { content: 'x' });
    expect(edit.statusCode).toBe(403);
    const del = await call('DELETE', `/prompts/${prompt.id}`, admin.accessToken);
    expect(del.statusCode).toBe(403);
  });

  it('an unknown id is 404', async () => {
    const res = await call('GET', `/prompts/${randomUUID()}`, plainUser.accessToken);
    expect(res.statusCode).toBe(404);
  });

  it('the owner edits content with If-Match; a stale tag is 412', async () => {
    const prompt = await newPrompt(plainUser);
    const edited = await call(
      'PATCH',
      `/prompts/${prompt.id}`,
      plainUser.accessToken,
      { content: 'A better question' },
      { 'if-match': '"v1"' },
    );
    expect(edited.statusCode, edited.body).toBe(200);
    const body = edited.json<PromptBody>();
    expect(body).toMatchObject({ content: 'A better question', status: 'pending', version: 2 });
    expect(body.response).toBeNull();
    expect(edited.headers.etag).toBe('"v2"');
    expect(new Date(body.updated_at).getTime()).toBeGreaterThanOrEqual(
      new Date(prompt.updated_at).getTime(),
    );
    const stale = await call(
      'PATCH',
      `/prompts/${prompt.id}`,
      plainUser.accessToken,
      { content: 'lost update' },
      { 'if-match': '"v1"' },
    );
    expect(stale.statusCode).toBe(412);
    expect(problemOf(stale).code).toBe('precondition_failed');
    // Without If-Match the edit applies (no precondition asked for).
    const blind = await call('PATCH', `/prompts/${prompt.id}`, plainUser.accessToken, {
      content: 'third',
    });
    expect(blind.statusCode).toBe(200);
    expect(blind.json<PromptBody>().version).toBe(3);
  });

  it.each([
    ['an empty body', {}],
    ['too long content', { content: 'a'.repeat(20_001) }],
    ['NUL in content', { content: '\u0000' }],
    ['a read-only field', { content: 'ok', status: 'completed' }],
    ['an unknown property', { content: 'ok', response: 'forged' }],
  ])('PATCH 400 on %s', async (_name, payload) => {
    const prompt = await newPrompt(plainUser);
    const res = await call('PATCH', `/prompts/${prompt.id}`, plainUser.accessToken, payload);
    expect(res.statusCode, res.body).toBe(400);
  });

  it('the owner deletes it (hard delete): then 404; a stale If-Match is 412', async () => {
    const prompt = await newPrompt(plainUser);
    const stale = await call('DELETE', `/prompts/${prompt.id}`, plainUser.accessToken, undefined, {
      'if-match': '"v9"',
    });
    expect(stale.statusCode).toBe(412);
    const res = await call('DELETE', `/prompts/${prompt.id}`, plainUser.accessToken, undefined, {
      'if-match': '"v1"',
    });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await call('GET', `/prompts/${prompt.id}`, plainUser.accessToken)).statusCode).toBe(
      404,
    );
    expect((await call('GET', `/prompts/${prompt.id}`, admin.accessToken)).statusCode).toBe(404);
    expect((await call('DELETE', `/prompts/${prompt.id}`, plainUser.accessToken)).statusCode).toBe(
      404,
    );
  });

  it('a malformed id is 400', async () => {
    const res = await call('GET', '/prompts/not-a-uuid', plainUser.accessToken);
    expect(res.statusCode).toBe(400);
  });
});

describe('logs', () => {
  it('never contain prompt content, on success or failure paths', async () => {
    const lines: string[] = [];
    const logged = await buildTestApp(
      { LOG_LEVEL: 'trace' },
      { logger: undefined, logStream: { write: (line: string) => lines.push(line) } },
    );
    try {
      const user = await createUser(logged.app, 'doctor');
      const canary = `canary-prompt-${randomUUID()}`;
      const send = (method: Method, url: string, payload?: unknown, headers = {}) =>
        logged.app.inject({
          method,
          url: `/api/v1${url}`,
          headers: { ...bearer(user.accessToken), ...headers },
          ...(payload === undefined ? {} : { payload: payload as object }),
        });
      const created = await send('POST', '/prompts', { content: `${canary} patient Jane Roe` });
      expect(created.statusCode).toBe(201);
      const id = created.json<PromptBody>().id;
      await send('POST', '/prompts', { content: `${canary}\u0000` });
      await send('POST', '/prompts', { content: canary, extra: canary });
      await send('PATCH', `/prompts/${id}`, { content: canary }, { 'if-match': '"v7"' });
      await send('GET', `/prompts?user_id=${canary}`);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.filter((line) => line.includes(canary))).toEqual([]);
    } finally {
      await logged.close();
    }
  });
});
