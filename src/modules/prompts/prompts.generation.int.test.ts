import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  buildTestApp,
  createUser,
  problemOf,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { newId } from '../../lib/ids.js';
import { resumePendingPrompts } from './prompt-generation.js';
import { insertPrompt } from './prompts.repository.js';
import type { PromptDto } from './prompts.schemas.js';

/*
 * Generation end to end: the app talks to a local HTTP server speaking the chat-completions
 * protocol. The server picks its behaviour from a `scenario:<name>` word in the user message
 * (background tasks of different tests may overlap) and records everything it receives.
 */

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { model: string; messages: { role: string; content: string }[] };
  scenario: string;
}

const received: Received[] = [];
const releases: (() => void)[] = [];
const apiKey = 'sk-test-key-0123456789';

function startChatServer(): Promise<Server> {
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw) as Received['body'];
      const user = body.messages.find((m) => m.role === 'user')?.content ?? '';
      const scenario = /scenario:([\w-]+)/.exec(user)?.[1] ?? 'echo';
      received.push({ headers: req.headers, raw, body, scenario });
      const seen = received.filter((r) => r.scenario === scenario).length;
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            model: 'served-model-2024',
            choices: [{ index: 0, message: { role: 'assistant', content: `Echo: ${user}` } }],
            usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
          }),
        );
      };
      const fail = (status: number, payload: object, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      switch (scenario) {
        case 'flaky':
          if (seen === 1) fail(500, { error: { message: 'boom', type: 'server_error' } });
          else answer();
          return;
        case 'throttled':
          if (seen === 1) fail(429, { error: { code: 'rate_limit' } }, { 'retry-after': '1' });
          else answer();
          return;
        case 'throttled-long':
          fail(429, { error: { code: 'rate_limit' } }, { 'retry-after': '3600' });
          return;
        case 'bad':
          fail(400, { error: { message: `cannot parse ${user}`, code: 'invalid_request_error' } });
          return;
        case 'nul':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              model: 'served\u0000model',
              choices: [{ message: { role: 'assistant', content: 'bad\u0000answer' } }],
            }),
          );
          return;
        case 'hang':
          return; // never answers; the client's timeout must cut it off
        case 'held':
          releases.push(answer);
          return;
        default:
          answer();
      }
    });
  });
  return new Promise((done) => {
    server.listen(0, '127.0.0.1', () => {
      done(server);
    });
  });
}

let chat: Server;
let t: TestApp;
const logLines: string[] = [];
let doctor: TestUser;
let admin: TestUser;
let plainUser: TestUser;

beforeAll(async () => {
  chat = await startChatServer();
  const { port } = chat.address() as AddressInfo;
  t = await buildTestApp(
    {
      LOG_LEVEL: 'debug',
      LLM_BASE_URL: `http://127.0.0.1:${port}/v1/`,
      LLM_MODEL: 'medcore-test-model',
      LLM_API_KEY: apiKey,
      LLM_TIMEOUT_MS: '400',
      LLM_MAX_ATTEMPTS: '3',
      LLM_RESUME_INTERVAL_MS: '1000',
    },
    { logger: undefined, logStream: { write: (line: string) => logLines.push(line) } },
  );
  [doctor, admin, plainUser] = await Promise.all([
    createUser(t.app, 'doctor'),
    createUser(t.app, 'admin'),
    createUser(t.app, 'user'),
  ]);
});
afterAll(async () => {
  for (const release of releases) release();
  await t.close();
  chat.closeAllConnections();
  await new Promise((done) => chat.close(done));
});

async function create(user: TestUser, content: string, app = t): Promise<PromptDto> {
  const res = await api(app.app).as(user).post('/prompts', { content });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PromptDto>();
}

async function read(id: string, user: TestUser): Promise<PromptDto> {
  const res = await api(t.app).as(user).get(`/prompts/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PromptDto>();
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 8_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

const settled = (id: string, user: TestUser) =>
  until(
    () => read(id, user),
    (p) => p.status !== 'pending',
  );
const requestsFor = (scenario: string) => received.filter((r) => r.scenario === scenario);

describe('generation through an OpenAI-compatible endpoint', () => {
  let patient: { first_name: string; last_name: string; mrn: string };

  beforeAll(async () => {
    const res = await api(t.app).as(doctor).post('/patients', {
      first_name: 'Philippa',
      last_name: 'Quenby',
      date_of_birth: '1980-03-04',
      email: 'pq.private@example.org',
      phone: '+44 20 7946 0958',
    });
    expect(res.statusCode, res.body).toBe(201);
    patient = res.json();
  });

  const identifiers = () => [
    'Philippa',
    'Quenby',
    patient.mrn,
    patient.mrn.replace(/^MRN/, ''),
    '1980',
    'pq.private@example.org',
    '7946',
    '555',
  ];
  const contentFor = (scenario: string) =>
    `scenario:${scenario} Summarise for Philippa Quenby (${patient.mrn}, born 04/03/1980, ` +
    `also written 4 March 1980). Reach her on +44 20 7946 0958 or (555) 010-4477, ` +
    `pq.private@example.org. Quenby’s plan?`;

  it('answers 201 pending at once, then completes with model, tokens and latency', async () => {
    const created = await create(doctor, contentFor('echo'));
    expect(created).toMatchObject({ status: 'pending', response: null, version: 1 });
    const done = await settled(created.id, doctor);
    expect(done).toMatchObject({
      status: 'completed',
      model: 'served-model-2024',
      prompt_tokens: 11,
      completion_tokens: 7,
      error: null,
      version: 2,
    });
    expect(done.latency_ms).toEqual(expect.any(Number));
    expect(done.latency_ms).toBeGreaterThanOrEqual(0);
    // A doctor may see patient demographics: the placeholders are restored.
    expect(done.response).toBe(`Echo: ${contentFor('echo')}`);
  });

  it('sends the configured model, a system and a user message, and the bearer key', () => {
    const [request] = requestsFor('echo');
    expect(request?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(request?.body.model).toBe('medcore-test-model');
    expect(request?.body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    const user = request?.body.messages[1]?.content ?? '';
    expect(user).toContain('[PATIENT_1]');
    expect(user).toContain('[MRN_1]');
    expect(user).toContain('[DOB_1]');
    expect(user).toContain('[PHONE_1]');
    expect(user).toContain('[EMAIL_1]');
  });

  it('never lets an identifier reach the endpoint', () => {
    expect(received.length).toBeGreaterThan(0);
    for (const request of received) {
      const raw = request.raw.toLowerCase();
      for (const value of identifiers()) expect(raw).not.toContain(value.toLowerCase());
    }
  });

  it('restores placeholders for every reader, so redaction reveals no patient', async () => {
    // A `user` may not read patients. If the response showed them placeholders, the names that
    // came back replaced would tell them who is a patient here; restored, nothing shows.
    const mine = await create(plainUser, contentFor('echo'));
    const asOwner = await settled(mine.id, plainUser);
    expect(asOwner.status).toBe('completed');
    expect(asOwner.response).toBe(`Echo: ${contentFor('echo')}`);
    expect(asOwner.response).not.toMatch(/\[(PATIENT|MRN|DOB|PHONE|EMAIL)_\d+\]/);
    // The model still saw placeholders only.
    const sent = requestsFor('echo').at(-1)?.body.messages[1]?.content ?? '';
    expect(sent).toMatch(/\[PATIENT_1\].*\[MRN_1\]/);
    // An admin reads everyone's prompts: the same restored text.
    const asAdmin = await read(mine.id, admin);
    expect(asAdmin.response).toBe(asOwner.response);
    const list = await api(t.app).as(admin).get(`/prompts?user_id=${plainUser.id}`);
    expect(list.json<{ items: PromptDto[] }>().items[0]?.response).toBe(asAdmin.response);
  });

  it('retries after a 500, then completes', async () => {
    const created = await create(doctor, 'scenario:flaky what is a normal HbA1c?');
    const done = await settled(created.id, doctor);
    expect(done.status, done.error ?? '').toBe('completed');
    expect(requestsFor('flaky')).toHaveLength(2);
  });

  it('honours a short Retry-After on 429', async () => {
    const created = await create(doctor, 'scenario:throttled dosing question');
    const done = await settled(created.id, doctor);
    expect(done.status, done.error ?? '').toBe('completed');
    expect(requestsFor('throttled')).toHaveLength(2);
  });

  it('gives up at once when Retry-After is longer than is worth waiting', async () => {
    const created = await create(doctor, 'scenario:throttled-long dosing question');
    const done = await settled(created.id, doctor);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/HTTP 429 \(rate_limit\); gave up after 1 attempt/);
    expect(requestsFor('throttled-long')).toHaveLength(1);
  });

  it('fails after the configured attempts when the endpoint hangs', async () => {
    const created = await create(doctor, 'scenario:hang anything');
    const done = await settled(created.id, doctor);
    expect(done).toMatchObject({ status: 'failed', response: null });
    expect(done.error).toMatch(/did not answer within 400 ms; gave up after 3 attempt/);
    expect(requestsFor('hang')).toHaveLength(3);
  });

  it('fails without retrying on a 400, recording a short error without the body', async () => {
    const created = await create(doctor, 'scenario:bad Philippa Quenby');
    const done = await settled(created.id, doctor);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/HTTP 400 \(invalid_request_error\)/);
    expect(done.error).not.toMatch(/cannot parse|Philippa|PATIENT/);
    expect(requestsFor('bad')).toHaveLength(1);
  });

  it('stores an answer holding NUL without it (PostgreSQL text cannot), never stuck pending', async () => {
    const created = await create(doctor, 'scenario:nul what dose?');
    const done = await settled(created.id, doctor);
    expect(done.status).toBe('completed');
    expect(done.response).toBe('badanswer');
    expect(done.model).toBe('servedmodel');
  });

  it('an edit during generation wins over the late answer, and is regenerated', async () => {
    const created = await create(doctor, 'scenario:held first version');
    await until(
      async () => releases.length,
      (n) => n === 1,
    );
    const edited = await api(t.app).as(doctor).patch(`/prompts/${created.id}`, {
      content: 'second version, answered at once',
    });
    expect(edited.statusCode, edited.body).toBe(200);
    releases.shift()?.();
    const done = await settled(edited.json<PromptDto>().id, doctor);
    expect(done.status).toBe('completed');
    expect(done.content).toBe('second version, answered at once');
    expect(done.response).toBe('Echo: second version, answered at once');
    // The late answer to the first version did not land afterwards either.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await read(created.id, doctor)).response).toBe(done.response);
  });

  it('keeps at most 4 calls in flight; the rest wait their turn and complete', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await create(doctor, `scenario:held burst ${i}`)).id);
    await until(
      async () => releases.length,
      (n) => n >= 4,
    );
    // Give a fifth call the time to arrive, were it allowed to.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(releases.length).toBe(4);
    // Each answer frees a slot for a waiting prompt.
    while (ids.length > 0) {
      const release = releases.shift();
      if (release !== undefined) release();
      const settledIds = [];
      for (const id of ids) {
        if ((await read(id, doctor)).status === 'completed') settledIds.push(id);
      }
      for (const id of settledIds) ids.splice(ids.indexOf(id), 1);
      if (release === undefined) await new Promise((resolve) => setTimeout(resolve, 40));
    }
    expect(releases.length).toBe(0);
  });

  it('a delete during generation stays deleted', async () => {
    const created = await create(doctor, 'scenario:held to be deleted');
    await until(
      async () => releases.length,
      (n) => n === 1,
    );
    const del = await api(t.app).as(doctor).delete(`/prompts/${created.id}`);
    expect(del.statusCode).toBe(204);
    releases.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await api(t.app).as(doctor).get(`/prompts/${created.id}`)).statusCode).toBe(404);
  });

  it('resumes prompts left pending by an earlier run', async () => {
    const row = await insertPrompt(t.app.ctx.db, {
      id: newId(),
      userId: doctor.id,
      content: 'left behind by a crash',
      createdAt: new Date(Date.now() - 600_000),
      updatedAt: new Date(Date.now() - 600_000),
    });
    expect(await resumePendingPrompts(t.app.ctx)).toBe(1);
    const done = await settled(row.id, doctor);
    expect(done.response).toBe('Echo: left behind by a crash');
  });

  it('sweeps for pending prompts while running, not only at start', async () => {
    const row = await insertPrompt(t.app.ctx.db, {
      id: newId(),
      userId: doctor.id,
      content: 'left behind by another instance',
      createdAt: new Date(Date.now() - 600_000),
      updatedAt: new Date(Date.now() - 600_000),
    });
    // Nobody calls resumePendingPrompts here: the 1 s sweep must find it.
    const done = await settled(row.id, doctor);
    expect(done.response).toBe('Echo: left behind by another instance');
  });

  it('logs no prompt text, response or identifier', () => {
    expect(logLines.some((line) => line.includes('prompt generation failed'))).toBe(true);
    const leaks = logLines.filter((line) =>
      [...identifiers().slice(0, 3), 'pq.private', 'Summarise', 'Echo:', apiKey].some((v) =>
        line.includes(v),
      ),
    );
    expect(leaks).toEqual([]);
  });
});

describe('without an endpoint, and the daily quota', () => {
  let plain: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    plain = await buildTestApp({ PROMPT_DAILY_QUOTA: '3' });
    user = await createUser(plain.app, 'nurse');
  });
  afterAll(async () => {
    await plain.close();
  });

  it('stores prompts pending with a null response, and nothing generates them', async () => {
    const created = await create(user, 'no endpoint here', plain);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const res = await api(plain.app).as(user).get(`/prompts/${created.id}`);
    expect(res.json<PromptDto>()).toMatchObject({ status: 'pending', response: null });
  });

  it('refuses the prompt beyond the quota with 429, even for parallel creates', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        api(plain.app)
          .as(user)
          .post('/prompts', { content: `${n}` }),
      ),
    );
    // One was created by the previous test: two more fit, two are refused.
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 201, 429, 429]);
    const refused = results.find((r) => r.statusCode === 429);
    if (refused === undefined) throw new Error('expected a refusal');
    const problem = problemOf(refused);
    expect(problem).toMatchObject({
      code: 'prompt_quota_exceeded',
      type: 'urn:medcore:problem:prompt_quota_exceeded',
      status: 429,
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    // The quota is per user.
    const other = await createUser(plain.app, 'user');
    expect((await api(plain.app).as(other).post('/prompts', { content: 'x' })).statusCode).toBe(
      201,
    );
  });
});

describe('shutdown', () => {
  it('does not wait for a hanging endpoint', async () => {
    const { port } = chat.address() as AddressInfo;
    const app = await buildTestApp({
      LLM_BASE_URL: `http://127.0.0.1:${port}/v1`,
      LLM_MODEL: 'm',
      LLM_TIMEOUT_MS: '60000',
    });
    const user = await createUser(app.app, 'doctor');
    const before = requestsFor('hang').length;
    await create(user, 'scenario:hang during shutdown', app);
    await until(
      async () => requestsFor('hang').length,
      (n) => n > before,
    );
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
