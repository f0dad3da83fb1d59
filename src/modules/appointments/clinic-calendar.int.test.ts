import { describe, expect, it } from 'vitest';
import {
  api,
  createUsers,
  useTestApp,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { clinicDate } from './availability.js';

let t: TestApp;
let receptionist: TestUser;
let user: TestUser;

useTestApp(
  async (app) => {
    t = app;
    [receptionist, user] = await createUsers(t.app, 'receptionist', 'user');
  },
  {
    CLINIC_TIMEZONE: 'Pacific/Kiritimati',
    WORKDAYS: '1-4,6',
    WORKDAY_START: '07:30',
    WORKDAY_END: '15:00',
  },
);

describe('GET /clinic/calendar', () => {
  it("gives staff the clinic's zone, working days and hours, and today's date there", async () => {
    const res = await api(t.app).as(receptionist).get('/clinic/calendar');
    expect(res.statusCode, res.body).toBe(200);
    const calendar = res.json<Record<string, unknown>>();
    expect(calendar).toMatchObject({
      time_zone: 'Pacific/Kiritimati',
      working_days: [1, 2, 3, 4, 6],
      workday_start: '07:30',
      workday_end: '15:00',
    });
    expect(calendar.slot_step_minutes).toBeTypeOf('number');
    // UTC+14: "today" there is often not today in UTC.
    expect(calendar.today).toBe(clinicDate(new Date(), 'Pacific/Kiritimati'));
  });

  it('refuses accounts without a staff role (403) and anonymous callers (401)', async () => {
    expect((await api(t.app).as(user).get('/clinic/calendar')).statusCode).toBe(403);
    expect((await api(t.app).get('/clinic/calendar')).statusCode).toBe(401);
  });
});
