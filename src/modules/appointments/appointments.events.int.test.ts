import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  buildTestApp,
  createUser,
  createUsers,
  problemOf,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { OPEN_ALL_DAY } from '../../../test/working-hours.js';
import {
  bookOne,
  newPatient,
  openSse,
  waitFor,
  type SseClient,
} from '../outbox/outbox.test-support.js';
import type { AppointmentDto } from './appointments.schemas.js';

let t: TestApp;
let base: string;
let doctor: TestUser;
let receptionist: TestUser;
let nurse: TestUser;
const open: SseClient[] = [];

beforeAll(async () => {
  t = await buildTestApp({ ...OPEN_ALL_DAY, SSE_HEARTBEAT_MS: '200' });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;
  [doctor, receptionist, nurse] = await createUsers(t.app, 'doctor', 'receptionist', 'nurse');
});
afterAll(async () => {
  for (const client of open) client.close();
  await t.close();
});

async function subscribe(user: TestUser | string, headers: Record<string, string> = {}) {
  const token = typeof user === 'string' ? user : user.accessToken;
  const client = await openSse(base, token, headers);
  open.push(client);
  expect(client.status).toBe(200);
  expect(client.contentType).toMatch(/^text\/event-stream/);
  // Live from here on: the first comment or retry hint shows the server subscribed.
  await waitFor(() => client.retries.length > 0);
  return client;
}

async function readAs(user: TestUser, id: string): Promise<unknown> {
  const res = await api(t.app).as(user).get(`/appointments/${id}`);
  expect(res.statusCode).toBe(200);
  return res.json();
}

function ofAppointment(client: SseClient, id: string) {
  return client.messages.filter((m) => (JSON.parse(m.data) as AppointmentDto).id === id);
}

describe('GET /appointments/events', () => {
  it("a receptionist's booking reaches a doctor's stream with id, event and the appointment as GET shows it", async () => {
    const stream = await subscribe(doctor);
    const patient = await newPatient(t.app, nurse);
    const appt = await bookOne(t.app, receptionist, doctor, patient);
    await waitFor(() => ofAppointment(stream, appt.id).length === 1);
    const [message] = ofAppointment(stream, appt.id);
    expect(message?.event).toBe('appointment.booked');
    expect(Number(message?.id)).toBeGreaterThan(0);
    expect(JSON.parse(message?.data ?? '')).toEqual(await readAs(doctor, appt.id));

    const confirmed = await api(t.app).as(doctor).post(`/appointments/${appt.id}/confirm`);
    expect(confirmed.statusCode).toBe(200);
    await waitFor(() => ofAppointment(stream, appt.id).length === 2);
    const second = ofAppointment(stream, appt.id)[1];
    expect(second?.event).toBe('appointment.confirmed');
    expect(Number(second?.id)).toBeGreaterThan(Number(message?.id));
    expect(JSON.parse(second?.data ?? '')).toEqual(confirmed.json());
    // The outbox id is the SSE id.
    const ids = stream.messages.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("a receptionist's stream shows what GET shows a receptionist, and no medical field", async () => {
    const stream = await subscribe(receptionist);
    const patient = await newPatient(t.app, nurse);
    const appt = await bookOne(t.app, doctor, doctor, patient);
    await waitFor(() => ofAppointment(stream, appt.id).length === 1);
    const data = JSON.parse(ofAppointment(stream, appt.id)[0]?.data ?? '') as Record<
      string,
      unknown
    >;
    expect(data).toEqual(await readAs(receptionist, appt.id));
    for (const medical of ['medical_history', 'allergies', 'initial_diagnosis', 'diagnosis']) {
      expect(data).not.toHaveProperty(medical);
    }
  });

  it('Last-Event-ID resumes with exactly the missed events, then live, without repeats', async () => {
    const patient = await newPatient(t.app, nurse);
    const first = await subscribe(doctor);
    const appt = await bookOne(t.app, receptionist, doctor, patient);
    await waitFor(() => ofAppointment(first, appt.id).length === 1);
    const lastSeen = ofAppointment(first, appt.id)[0]?.id ?? '';
    first.close();
    // Missed while away: three changes.
    const as = api(t.app).as(doctor);
    for (const step of ['confirm', 'check-in', 'complete']) {
      expect((await as.post(`/appointments/${appt.id}/${step}`)).statusCode).toBe(200);
    }
    const resumed = await subscribe(doctor, { 'last-event-id': lastSeen });
    await waitFor(() => ofAppointment(resumed, appt.id).length === 3);
    const other = await bookOne(t.app, receptionist, doctor, await newPatient(t.app, nurse));
    await waitFor(() => ofAppointment(resumed, other.id).length === 1);
    expect(ofAppointment(resumed, appt.id).map((m) => m.event)).toEqual([
      'appointment.confirmed',
      'appointment.checked_in',
      'appointment.completed',
    ]);
    const ids = resumed.messages.map((m) => Number(m.id));
    expect(ids.every((id) => id > Number(lastSeen))).toBe(true);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('an idle stream gets comment heartbeats', async () => {
    const stream = await subscribe(nurse);
    await waitFor(() => stream.comments.some((c) => c.text === 'ping'), 2_000);
    expect(stream.endedAt).toBeUndefined();
  });

  it("a revoked session's stream is closed within 1 s", async () => {
    const user = await createUser(t.app, 'nurse');
    const stream = await subscribe(user);
    const res = await api(t.app).as(user).post('/auth/logout-all');
    expect(res.statusCode).toBe(204);
    const revokedAt = performance.now();
    await waitFor(() => stream.endedAt !== undefined, 2_000);
    expect((stream.endedAt ?? Infinity) - revokedAt).toBeLessThan(1_000);
  });

  it('refuses without a token (401), for roles that may not read appointments (403), and a malformed Last-Event-ID (400)', async () => {
    expect((await api(t.app).get('/appointments/events')).statusCode).toBe(401);
    const user = await createUser(t.app, 'user');
    expect((await api(t.app).as(user).get('/appointments/events')).statusCode).toBe(403);
    const bad = await api(t.app)
      .as(doctor)
      .get('/appointments/events', { headers: { 'last-event-id': 'abc' } });
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).code).toBe('validation_failed');
  });
});

describe('shutdown', () => {
  it('tells open streams to reconnect and ends them', async () => {
    const own = await buildTestApp({ ...OPEN_ALL_DAY, SSE_HEARTBEAT_MS: '200' });
    await own.app.listen({ host: '127.0.0.1', port: 0 });
    const address = own.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const [staff] = await createUsers(own.app, 'nurse');
    const stream = await openSse(`http://127.0.0.1:${address.port}`, staff.accessToken);
    await waitFor(() => stream.retries.length > 0);
    const t0 = performance.now();
    const closing = own.close();
    await waitFor(() => stream.endedAt !== undefined, 3_000);
    // Streams end as the shutdown begins, and do not hold it up (close resolves).
    expect((stream.endedAt ?? Infinity) - t0).toBeLessThan(1_000);
    await closing;
    expect(stream.retries.length).toBe(2);
    expect(stream.comments.some((c) => c.text === 'reconnect')).toBe(true);
  });
});

describe.skipIf(process.env.TEST_DATABASE_URL === undefined)(
  'two instances on one database',
  () => {
    it('an event made on instance A reaches a subscriber on instance B (Redis or LISTEN/NOTIFY)', async () => {
      const databaseUrl = t.config.databaseUrl ?? '';
      // B never polls within the test: only the cross-instance hint can bring the event.
      const other = await buildTestApp({
        DATABASE_URL: databaseUrl,
        SSE_HEARTBEAT_MS: '200',
        JOBS_POLL_INTERVAL_MS: '60000',
      });
      try {
        await other.app.listen({ host: '127.0.0.1', port: 0 });
        const address = other.app.server.address();
        if (address === null || typeof address === 'string') throw new Error('no port');
        // Tokens are valid on both: same secret, same database.
        const stream = await openSse(`http://127.0.0.1:${address.port}`, doctor.accessToken);
        open.push(stream);
        await waitFor(() => stream.retries.length > 0);
        const patient = await newPatient(t.app, nurse);
        const appt = await bookOne(t.app, receptionist, doctor, patient);
        const booked = performance.now();
        await waitFor(() => ofAppointment(stream, appt.id).length === 1, 2_000);
        const [message] = ofAppointment(stream, appt.id);
        expect(message?.event).toBe('appointment.booked');
        expect(JSON.parse(message?.data ?? '')).toEqual(await readAs(doctor, appt.id));
        expect((message?.at ?? Infinity) - booked).toBeLessThan(1_000);
      } finally {
        await other.app.close();
      }
    });
  },
);
