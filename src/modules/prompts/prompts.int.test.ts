import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  api,
  buildTestApp,
  createUser,
  problemOf,
  type PageBody,
  type TestApp,
  type TestUser,
  createUsers,
  useTestApp,
} from '../../../test/helpers.js';
import type { PromptDto } from './prompts.schemas.js';

let t: TestApp;
let admin: TestUser;
let doctor: TestUser;
let nurse: TestUser;
let plainUser: TestUser;
let guest: TestUser;

useTestApp(async (app) => {
  t = app;
  [admin, doctor, nurse, plainUser, guest] = await createUsers(
    t.app,
    'admin',
    'doctor',
    'nurse',
    'user',
    'guest',
  );
});

async function newPrompt(user: TestUser, content = 'Summarise the ACE inhibitor guidance.') {
  const res = await api(t.app).as(user).post('/prompts', { content });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PromptDto>();
}

describe('POST /prompts', () => {
  it('stores the prompt pending, with no response yet', async () => {
    const res = await api(t.app).as(nurse).post('/prompts', {
      content: 'Line one\n\tline two',
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<PromptDto>();
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
    const res = await api(t.app)
      .as(plainUser)
      .post('/prompts', {
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
    const res = await api(t.app).as(plainUser).post('/prompts', payload);
    expect(res.statusCode, res.body).toBe(400);
    const problem = problemOf(res);
    expect(problem.code).toBe('validation_failed');
  });

  it('names the field on NUL', async () => {
    const res = await api(t.app).as(plainUser).post('/prompts', { content: 'a\u0000' });
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
    const res = await api(t.app).as(guest).request(method, url, payload);
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
    const first = await api(t.app).as(owner).get('/prompts?limit=2');
    expect(first.statusCode).toBe(200);
    const page1 = first.json<PageBody<PromptDto>>();
    expect(page1.items.map((p) => p.content)).toEqual(['prompt 2', 'prompt 1']);
    expect(page1.next_cursor).not.toBeNull();
    const second = await api(t.app)
      .as(owner)
      .get(`/prompts?limit=2&cursor=${page1.next_cursor ?? ''}`);
    const page2 = second.json<PageBody<PromptDto>>();
    expect(page2.items.map((p) => p.id)).toEqual([made[0]?.id]);
    expect(page2.next_cursor).toBeNull();
    // Own id as user_id is the same list.
    const own = await api(t.app).as(owner).get(`/prompts?user_id=${owner.id}`);
    expect(own.json<PageBody<PromptDto>>().items).toHaveLength(3);
  });

  it('refuses other users’ prompts to non-admins (403, never silently narrowed)', async () => {
    for (const query of [`?user_id=${doctor.id}`, '?all=true']) {
      const res = await api(t.app).as(nurse).get(`/prompts${query}`);
      expect(res.statusCode, query).toBe(403);
    }
  });

  it('lets an admin read one user’s or everyone’s prompts', async () => {
    const mine = await newPrompt(plainUser, 'for the admin to see');
    const theirs = await newPrompt(doctor, 'also for the admin');
    const byUser = await api(t.app).as(admin).get(`/prompts?user_id=${plainUser.id}&limit=100`);
    expect(byUser.statusCode).toBe(200);
    const userItems = byUser.json<PageBody<PromptDto>>().items;
    expect(userItems.map((p) => p.id)).toContain(mine.id);
    expect(userItems.every((p) => p.user_id === plainUser.id)).toBe(true);
    const all = await api(t.app).as(admin).get('/prompts?all=true&limit=100');
    const allIds = all.json<PageBody<PromptDto>>().items.map((p) => p.id);
    expect(allIds).toEqual(expect.arrayContaining([mine.id, theirs.id]));
    // Without a filter an admin sees only their own log.
    const own = await api(t.app).as(admin).get('/prompts');
    expect(own.json<PageBody<PromptDto>>().items.every((p) => p.user_id === admin.id)).toBe(true);
  });

  it.each([
    ['both user_id and all', () => `?all=true&user_id=${plainUser.id}`],
    ['a bad cursor', () => '?cursor=bm90LWpzb24'],
    ['a bad user_id', () => '?user_id=nope'],
    ['an unknown parameter', () => '?q=x'],
    ['limit 101', () => '?limit=101'],
  ])('400 on %s', async (_name, query) => {
    const res = await api(t.app).as(admin).get(`/prompts${query()}`);
    expect(res.statusCode, res.body).toBe(400);
  });
});

describe('GET/PATCH/DELETE /prompts/{id}', () => {
  it('the owner reads it, with an ETag', async () => {
    const prompt = await newPrompt(plainUser);
    const res = await api(t.app).as(plainUser).get(`/prompts/${prompt.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json<PromptDto>()).toEqual(prompt);
    expect(res.headers.etag).toBe('"v1"');
  });

  it('another user’s prompt is 404 for reads, edits and deletes', async () => {
    const prompt = await newPrompt(plainUser);
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const payload = method === 'PATCH' ? { content: 'hijacked' } : undefined;
      const res = await api(t.app).as(doctor).request(method, `/prompts/${prompt.id}`, payload);
      expect(res.statusCode, method).toBe(404);
      expect(problemOf(res).code).toBe('not_found');
    }
    const still = await api(t.app).as(plainUser).get(`/prompts/${prompt.id}`);
    expect(still.json<PromptDto>().content).toBe(prompt.content);
  });

  it('an admin may read anyone’s prompt but not change or delete it (403)', async () => {
    const prompt = await newPrompt(nurse);
    const read = await api(t.app).as(admin).get(`/prompts/${prompt.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json<PromptDto>().user_id).toBe(nurse.id);
    const edit = await api(t.app).as(admin).patch(`/prompts/${prompt.id}`, { content: 'x' });
    expect(edit.statusCode).toBe(403);
    const del = await api(t.app).as(admin).delete(`/prompts/${prompt.id}`);
    expect(del.statusCode).toBe(403);
  });

  it('an unknown id is 404', async () => {
    const res = await api(t.app).as(plainUser).get(`/prompts/${randomUUID()}`);
    expect(res.statusCode).toBe(404);
  });

  it('the owner edits content with If-Match; a stale tag is 412', async () => {
    const prompt = await newPrompt(plainUser);
    const edited = await api(t.app)
      .as(plainUser)
      .patch(
        `/prompts/${prompt.id}`,
        { content: 'A better question' },
        { headers: { 'if-match': '"v1"' } },
      );
    expect(edited.statusCode, edited.body).toBe(200);
    const body = edited.json<PromptDto>();
    expect(body).toMatchObject({ content: 'A better question', status: 'pending', version: 2 });
    expect(body.response).toBeNull();
    expect(edited.headers.etag).toBe('"v2"');
    expect(new Date(body.updated_at).getTime()).toBeGreaterThanOrEqual(
      new Date(prompt.updated_at).getTime(),
    );
    const stale = await api(t.app)
      .as(plainUser)
      .patch(
        `/prompts/${prompt.id}`,
        { content: 'lost update' },
        { headers: { 'if-match': '"v1"' } },
      );
    expect(stale.statusCode).toBe(412);
    expect(problemOf(stale).code).toBe('precondition_failed');
    // Without If-Match the edit applies (no precondition asked for).
    const blind = await api(t.app).as(plainUser).patch(`/prompts/${prompt.id}`, {
      content: 'third',
    });
    expect(blind.statusCode).toBe(200);
    expect(blind.json<PromptDto>().version).toBe(3);
  });

  it.each([
    ['an empty body', {}],
    ['too long content', { content: 'a'.repeat(20_001) }],
    ['NUL in content', { content: '\u0000' }],
    ['a read-only field', { content: 'ok', status: 'completed' }],
    ['an unknown property', { content: 'ok', response: 'forged' }],
  ])('PATCH 400 on %s', async (_name, payload) => {
    const prompt = await newPrompt(plainUser);
    const res = await api(t.app).as(plainUser).patch(`/prompts/${prompt.id}`, payload);
    expect(res.statusCode, res.body).toBe(400);
  });

  it('the owner deletes it (hard delete): then 404; a stale If-Match is 412', async () => {
    const prompt = await newPrompt(plainUser);
    const stale = await api(t.app)
      .as(plainUser)
      .delete(`/prompts/${prompt.id}`, {
        headers: {
          'if-match': '"v9"',
        },
      });
    expect(stale.statusCode).toBe(412);
    const res = await api(t.app)
      .as(plainUser)
      .delete(`/prompts/${prompt.id}`, {
        headers: {
          'if-match': '"v1"',
        },
      });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await api(t.app).as(plainUser).get(`/prompts/${prompt.id}`)).statusCode).toBe(404);
    expect((await api(t.app).as(admin).get(`/prompts/${prompt.id}`)).statusCode).toBe(404);
    expect((await api(t.app).as(plainUser).delete(`/prompts/${prompt.id}`)).statusCode).toBe(404);
  });

  it('a malformed id is 400', async () => {
    const res = await api(t.app).as(plainUser).get('/prompts/not-a-uuid');
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
      const send = api(logged.app).as(user);
      const created = await send.post('/prompts', { content: `${canary} patient Jane Roe` });
      expect(created.statusCode).toBe(201);
      const id = created.json<PromptDto>().id;
      await send.post('/prompts', { content: `${canary}\u0000` });
      await send.post('/prompts', { content: canary, extra: canary });
      await send.patch(`/prompts/${id}`, { content: canary }, { headers: { 'if-match': '"v7"' } });
      await send.get(`/prompts?user_id=${canary}`);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.filter((line) => line.includes(canary))).toEqual([]);
    } finally {
      await logged.close();
    }
  });
});
