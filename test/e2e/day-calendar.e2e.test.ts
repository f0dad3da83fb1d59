import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  book,
  call,
  clinicDay,
  clinicTime,
  createPatient,
  createPerson,
  firstAdmin,
  ok,
  tokenFor,
  type Person,
} from './api.js';
import { launchBrowser, newSession, signIn, type Session } from './browser.js';
import { appointmentsOf, dayCalendar, doctorColumn, heading, placement } from './console.js';
import { clinicTimeZone, describeE2e } from './context.js';
import { expectGoodScreen } from './screens.js';

/**
 * Issue 15's day calendar: tomorrow's appointments of a doctor, each a block in the doctor's own
 * column at its time on the axis, sized by its length; a cancelled one (hidden until asked for)
 * beside the appointment booked into its slot; the blocks reached with Tab in time order; a block
 * opens the patient's record.
 */
let browser: Browser;
let doctor: Person;
let session: Session;
/** Tomorrow, and instants of it on the clinic's clock (set once the server runs). */
let at: { nine: Date; ten: Date; tenThirty: Date };
const patients = {
  first: { first_name: 'Ines', last_name: 'Ashcombe' },
  cancelled: { first_name: 'Bruno', last_name: 'Brightwell' },
  rebooked: { first_name: 'Clara', last_name: 'Coldridge' },
  short: { first_name: 'Dmitri', last_name: 'Dunsford' },
};
/** `hours:minutes` on `day` on the clinic's clock (a whole-hour zone in these runs). */
function clinicInstant(onDay: string, hours: number, minutes: number): Date {
  const guess = new Date(
    `${onDay}T${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}:00Z`,
  );
  const [h, m] = clinicTime(guess).split(':').map(Number);
  let diff = (h ?? 0) * 60 + (m ?? 0) - (hours * 60 + minutes);
  if (diff >= 720) diff -= 1440;
  if (diff < -720) diff += 1440;
  return new Date(guess.getTime() - diff * 60_000);
}

function block(page: Page, surname: string): Locator {
  return appointmentsOf(doctorColumn(page, doctor.fullName), surname);
}

async function box(
  locator: Locator,
): Promise<{ x: number; y: number; width: number; height: number }> {
  const found = await locator.boundingBox();
  if (!found) throw new Error(`not on the page: ${String(locator)}`);
  return found;
}

describeE2e('the day calendar', () => {
  beforeAll(async () => {
    const day = clinicDay(1);
    at = {
      nine: clinicInstant(day, 9, 0),
      ten: clinicInstant(day, 10, 0),
      tenThirty: clinicInstant(day, 10, 30),
    };
    const admin = await tokenFor(firstAdmin());
    doctor = await createPerson(admin, 'doctor', 'Greta Calloway');
    const ids = {
      first: await createPatient(admin, patients.first),
      cancelled: await createPatient(admin, patients.cancelled),
      rebooked: await createPatient(admin, patients.rebooked),
      short: await createPatient(admin, patients.short),
    };
    const visit = (patient: string, starts: Date, minutes: number) =>
      book(admin, {
        patient_id: patient,
        doctor_id: doctor.id,
        starts_at: starts.toISOString(),
        duration_minutes: minutes,
      });
    await visit(ids.first, at.nine, 60);
    const cancelled = await visit(ids.cancelled, at.ten, 30);
    ok(
      await call('POST', `/appointments/${cancelled}/cancel`, {
        token: admin,
        body: { reason: 'Patient called to cancel' },
      }),
      'cancel',
    );
    await visit(ids.rebooked, at.ten, 30);
    await visit(ids.short, at.tenThirty, 15);
    browser = await launchBrowser();
    session = await newSession(browser);
  });
  afterAll(async () => {
    await session.close();
    await browser.close();
  });

  it("shows each appointment in the doctor's column at its time, sized by its length", async () => {
    const { page } = session;
    await signIn(page, doctor);
    await heading(page, /^Today/);
    await page.getByRole('button', { name: 'Next day' }).click();
    await block(page, patients.rebooked.last_name).waitFor();

    // The doctor's own column comes first.
    const columns = dayCalendar(page).getByRole('region');
    expect(await columns.first().getByRole('heading').textContent()).toContain(
      `${doctor.fullName} (you)`,
    );
    for (const [surname, instant] of [
      [patients.first.last_name, at.nine],
      [patients.rebooked.last_name, at.ten],
      [patients.short.last_name, at.tenThirty],
    ] as const) {
      const where = await placement(page, block(page, surname), instant, clinicTimeZone());
      expect(where.hourHeight).toBeGreaterThan(0);
      expect(
        Math.abs(where.top - where.expected),
        `${surname} at ${clinicTime(instant)}`,
      ).toBeLessThan(2);
    }
    // Surname, time and status in words on each block; the hour-long one twice the half hour.
    const first = await box(block(page, patients.first.last_name));
    const rebooked = await box(block(page, patients.rebooked.last_name));
    expect(Math.abs(first.height - 2 * rebooked.height)).toBeLessThan(3);
    expect(Math.abs(first.width - rebooked.width)).toBeLessThan(1);
    const link = block(page, patients.rebooked.last_name).getByRole('link');
    const text = (await link.textContent()) ?? '';
    expect(text).toContain(patients.rebooked.last_name);
    expect(text).toContain('Scheduled');
    // The cancelled appointment is hidden until asked for.
    expect(await block(page, patients.cancelled.last_name).count()).toBe(0);
    await expectGoodScreen(page, 'doctor-day-calendar');
  });

  it('reaches the blocks with Tab in time order', async () => {
    const { page } = session;
    await dayCalendar(page).focus();
    const reached: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      reached.push(
        await page.evaluate(
          () =>
            (globalThis as unknown as { document: { activeElement: { textContent: string } } })
              .document.activeElement.textContent,
        ),
      );
    }
    expect(reached.map((name) => name.split(',')[0])).toEqual([
      patients.first.last_name,
      patients.rebooked.last_name,
      patients.short.last_name,
    ]);
  });

  it('puts a cancelled appointment beside the one booked into its slot when shown', async () => {
    const { page } = session;
    await page.getByLabel('Show cancelled appointments').check();
    const cancelled = block(page, patients.cancelled.last_name);
    await cancelled.waitFor();
    expect(await cancelled.textContent()).toContain('Cancelled');
    const [left, right, whole] = await Promise.all([
      box(cancelled),
      box(block(page, patients.rebooked.last_name)),
      box(block(page, patients.first.last_name)),
    ]);
    expect(Math.abs(left.y - right.y)).toBeLessThan(1);
    // Side by side: two lanes, each about half the column, not covering each other.
    expect(left.x + left.width).toBeLessThanOrEqual(right.x + 1);
    expect(left.width).toBeLessThan(whole.width * 0.6);
    await expectGoodScreen(page, 'doctor-day-calendar-cancelled');
  });

  it("opens the patient's record from a block", async () => {
    const { page } = session;
    await block(page, patients.short.last_name).getByRole('link').click();
    await heading(page, `${patients.short.last_name}, ${patients.short.first_name}`);
    expect(session.pageErrors).toEqual([]);
    expect(session.outsideRequests).toEqual([]);
  });
});
