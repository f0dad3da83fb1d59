import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, problemOf, unique, type PageBody } from '../../../test/helpers.js';
import type { AppointmentDto } from './appointments.schemas.js';
import {
  t,
  nurse,
  receptionist,
  useAppointmentsApp,
  type AvailabilityBody,
  MINUTE,
  dayStart,
  at,
  newDoctor,
  newPatient,
  booked,
  actOk,
  listAll,
} from './appointments.test-support.js';

useAppointmentsApp();

describe('GET /appointments', () => {
  it('filters by doctor_id, patient_id and status, sorted by starts_at', async () => {
    const doctorA = await newDoctor();
    const doctorB = await newDoctor();
    const p1 = await newPatient();
    const p2 = await newPatient();
    // Booked out of order to prove the sort.
    const a3 = await booked({ patient_id: p1, doctor_id: doctorA.id, starts_at: at(6, 12) });
    const a1 = await booked({ patient_id: p2, doctor_id: doctorA.id, starts_at: at(6, 9) });
    const a2 = await booked({ patient_id: p1, doctor_id: doctorA.id, starts_at: at(6, 10) });
    const b1 = await booked({ patient_id: p2, doctor_id: doctorB.id, starts_at: at(6, 11) });
    await actOk(a2.id, 'confirm');

    const byDoctor = await listAll(`doctor_id=${doctorA.id}`);
    expect(byDoctor.map((a) => a.id)).toEqual([a1.id, a2.id, a3.id]);
    const byPatient = await listAll(`patient_id=${p2}`);
    expect(byPatient.map((a) => a.id)).toEqual([a1.id, b1.id]);
    const confirmed = await listAll(`doctor_id=${doctorA.id}&status=confirmed`);
    expect(confirmed.map((a) => a.id)).toEqual([a2.id]);
    const both = await listAll(`doctor_id=${doctorA.id}&patient_id=${p1}&status=scheduled`);
    expect(both.map((a) => a.id)).toEqual([a3.id]);

    const slash = await api(t.app).as(nurse).get(`/appointments/?doctor_id=${doctorA.id}`);
    expect(slash.statusCode).toBe(200);
    expect(slash.json<PageBody<AppointmentDto>>().items).toHaveLength(3);

    const everything = await listAll('');
    const starts = everything.map((a) => Date.parse(a.starts_at));
    expect(starts).toEqual([...starts].sort((x, y) => x - y));
    expect(everything.map((a) => a.id)).toEqual(expect.arrayContaining([a1.id, a2.id, b1.id]));
  });

  it('from/to select appointments overlapping the range (half-open)', async () => {
    const doctor = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(6, 10),
    });
    const ids = async (range: string) =>
      (await listAll(`doctor_id=${doctor.id}&${range}`)).map((a) => a.id);
    const q = (from?: string, to?: string) =>
      [from && `from=${encodeURIComponent(from)}`, to && `to=${encodeURIComponent(to)}`]
        .filter(Boolean)
        .join('&');
    expect(await ids(q(at(6, 10, 15), at(6, 10, 20)))).toEqual([appt.id]); // inside
    expect(await ids(q(at(6, 9), at(6, 11)))).toEqual([appt.id]); // covering
    expect(await ids(q(at(6, 10, 29)))).toEqual([appt.id]); // from before the end
    expect(await ids(q(at(6, 10, 30)))).toEqual([]); // from exactly at the end
    expect(await ids(q(undefined, at(6, 10, 1)))).toEqual([appt.id]); // to after the start
    expect(await ids(q(undefined, at(6, 10)))).toEqual([]); // to exactly at the start
    expect(await ids(q(at(6, 11), at(6, 12)))).toEqual([]); // disjoint
  });

  it('keyset pagination walks every row exactly once, ties on starts_at included', async () => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const appt = await booked({
        patient_id: patient,
        doctor_id: doctor.id,
        starts_at: at(8, 9 + i),
      });
      ids.push(appt.id);
    }
    // Cancel-and-rebook leaves three rows with the same starts_at: the id breaks the tie.
    let active = ids[0] ?? '';
    for (let i = 0; i < 2; i++) {
      await actOk(active, 'cancel');
      const again = await booked({
        patient_id: patient,
        doctor_id: doctor.id,
        starts_at: at(8, 9),
      });
      ids.push(again.id);
      active = again.id;
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string =
        `/appointments?doctor_id=${doctor.id}&limit=2` +
        (cursor === null ? '' : `&cursor=${cursor}`);
      const res = await api(t.app).as(nurse).get(url);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<PageBody<AppointmentDto>>();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((a) => a.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 20);
    expect(cursor).toBeNull();
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    const all = await listAll(`doctor_id=${doctor.id}`);
    expect(seen).toEqual(all.map((a) => a.id));
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(pages).toBe(4);
  });

  it('a tampered cursor or bad filter is 400', async () => {
    for (const query of ['cursor=notacursor', 'status=done', 'doctor_id=123', 'from=yesterday']) {
      const res = await api(t.app).as(nurse).get(`/appointments?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(problemOf(res).status).toBe(400);
    }
  });
});

describe('GET /appointments/{id}, /patients/{id}/appointments', () => {
  it('reads one appointment and answers 404 for an unknown id', async () => {
    const doctor = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    const res = await api(t.app).as(receptionist).get(`/appointments/${appt.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json<AppointmentDto>().id).toBe(appt.id);
    const missing = await api(t.app).as(nurse).get(`/appointments/${randomUUID()}`);
    expect(missing.statusCode).toBe(404);
    expect(problemOf(missing).code).toBe('not_found');
  });

  it("lists a patient's appointments only, and 404 for an unknown patient", async () => {
    const patient = await newPatient();
    const otherPatient = await newPatient();
    const doctorA = await newDoctor();
    const doctorB = await newDoctor();
    const second = await booked({
      patient_id: patient,
      doctor_id: doctorA.id,
      starts_at: at(4, 9),
    });
    const first = await booked({ patient_id: patient, doctor_id: doctorB.id, starts_at: at(3, 9) });
    await booked({ patient_id: otherPatient, doctor_id: doctorA.id, starts_at: at(3, 9) });
    const res = await api(t.app).as(nurse).get(`/patients/${patient}/appointments`);
    expect(res.statusCode).toBe(200);
    const page = res.json<PageBody<AppointmentDto>>();
    expect(page.items.map((a) => a.id)).toEqual([first.id, second.id]);
    expect(page.next_cursor).toBeNull();

    const paged = await api(t.app).as(nurse).get(`/patients/${patient}/appointments?limit=1`);
    const p1 = paged.json<PageBody<AppointmentDto>>();
    expect(p1.items.map((a) => a.id)).toEqual([first.id]);
    expect(p1.next_cursor).not.toBeNull();
    const next = await api(t.app)
      .as(nurse)
      .get(`/patients/${patient}/appointments?limit=1&cursor=${p1.next_cursor}`);
    expect(next.json<PageBody<AppointmentDto>>().items.map((a) => a.id)).toEqual([second.id]);

    const missing = await api(t.app).as(nurse).get(`/patients/${randomUUID()}/appointments`);
    expect(missing.statusCode).toBe(404);
    expect(problemOf(missing).code).toBe('not_found');
  });
});

describe('GET /appointments/{id}.ics', () => {
  it('returns text/calendar with the UID and a UTC DTSTART, without the patient name', async () => {
    const doctor = await newDoctor();
    const firstName = unique('Zebulon');
    const patient = await newPatient(firstName);
    const appt = await booked({
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: at(3, 10, 15),
      duration_minutes: 45,
    });
    const res = await api(t.app).as(nurse).get(`/appointments/${appt.id}.ics`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar/);
    const ics = res.body.replace(/\r\n[ \t]/g, ''); // unfold folded lines
    expect(ics.startsWith('BEGIN:VCALENDAR')).toBe(true);
    expect(ics).toContain('BEGIN:VEVENT');
    expect(ics).toContain(`UID:${appt.id}`);
    const d = new Date(appt.starts_at);
    const utc = d
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    expect(ics).toMatch(new RegExp(`DTSTART(;VALUE=DATE-TIME)?:${utc}\\r?\\n`));
    expect(utc.endsWith('Z')).toBe(true);
    expect(ics).not.toContain(firstName);
    expect(ics.toLowerCase()).not.toContain(firstName.toLowerCase());
  });

  it('is 404 for an unknown appointment', async () => {
    const res = await api(t.app).as(nurse).get(`/appointments/${randomUUID()}.ics`);
    expect(res.statusCode).toBe(404);
  });
});

describe('GET /doctors/{id}/availability', () => {
  function dateIn(days: number): string {
    return new Date(dayStart(days)).toISOString().slice(0, 10);
  }

  it('lists working-hour slots (UTC, 09:00-17:00, step 15) minus booked ones', async () => {
    const doctor = await newDoctor();
    const date = dateIn(4);
    const before = await api(t.app)
      .as(receptionist)
      .get(`/doctors/${doctor.id}/availability?date=${date}`);
    expect(before.statusCode, before.body).toBe(200);
    const free = before.json<AvailabilityBody>();
    expect(free).toMatchObject({
      doctor_id: doctor.id,
      date,
      time_zone: 'UTC',
      duration_minutes: 30,
      next_cursor: null,
    });
    // 09:00 .. 16:30 every 15 minutes.
    expect(free.items).toHaveLength(31);
    expect(free.items[0]?.starts_at).toBe(`${date}T09:00:00.000Z`);
    expect(free.items.at(-1)?.ends_at).toBe(`${date}T17:00:00.000Z`);

    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: `${date}T10:00:00.000Z`,
    });
    const after = await api(t.app)
      .as(receptionist)
      .get(`/doctors/${doctor.id}/availability?date=${date}`);
    const starts = after.json<AvailabilityBody>().items.map((s) => s.starts_at.slice(11, 16));
    expect(starts).toHaveLength(28);
    for (const gone of ['09:45', '10:00', '10:15']) expect(starts).not.toContain(gone);
    for (const kept of ['09:30', '10:30']) expect(starts).toContain(kept);

    // A cancelled appointment no longer blocks.
    await actOk(appt.id, 'cancel');
    const freed = await api(t.app)
      .as(receptionist)
      .get(`/doctors/${doctor.id}/availability?date=${date}&duration_minutes=60`);
    const hourly = freed.json<AvailabilityBody>();
    expect(hourly.duration_minutes).toBe(60);
    expect(hourly.items).toHaveLength(29); // 09:00 .. 16:00
    for (const slot of hourly.items) {
      expect(Date.parse(slot.ends_at) - Date.parse(slot.starts_at)).toBe(60 * MINUTE);
    }
  });

  it('is 404 for a non-doctor or unknown id', async () => {
    for (const id of [nurse.id, randomUUID()]) {
      const res = await api(t.app)
        .as(nurse)
        .get(`/doctors/${id}/availability?date=${dateIn(4)}`);
      expect(res.statusCode).toBe(404);
      expect(problemOf(res).code).toBe('not_found');
    }
  });

  it('a bad or missing date is 400', async () => {
    const doctor = await newDoctor();
    for (const query of ['date=2026-13-01', 'date=tomorrow', 'date=2026-02-30', '']) {
      const res = await api(t.app).as(nurse).get(`/doctors/${doctor.id}/availability?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(problemOf(res).status).toBe(400);
    }
  });
});
