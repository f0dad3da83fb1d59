import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  clinicDay,
  createPatient,
  createPerson,
  firstAdmin,
  tokenFor,
  type Person,
} from './api.js';
import { launchBrowser, newSession, signIn, type Session } from './browser.js';
import {
  appointmentsOf,
  dayCalendar,
  doctorColumn,
  findPatient,
  goTo,
  heading,
  placement,
} from './console.js';
import { clinicTimeZone, describeE2e } from './context.js';
import { expectGoodScreen } from './screens.js';

/**
 * Issue 15, scenario 1: at the front desk a receptionist finds a patient by a misspelled surname
 * and books a free slot; in the consulting room the doctor, signed in at the same time in another
 * browser context, sees the appointment appear on the day view without reloading.
 */
let browser: Browser;
let doctor: Person;
let receptionist: Person;
let desk: Session;
let room: Session;
const surname = 'Abernathy';
const misspelled = 'Abernaty';

describeE2e('booking at the front desk, seen live in the consulting room', () => {
  beforeAll(async () => {
    const admin = await tokenFor(firstAdmin());
    doctor = await createPerson(admin, 'doctor', 'Dora Lindqvist');
    receptionist = await createPerson(admin, 'receptionist', 'Rita Okafor');
    await createPatient(admin, { first_name: 'Margarethe', last_name: surname });
    browser = await launchBrowser();
    desk = await newSession(browser);
    room = await newSession(browser);
  });
  afterAll(async () => {
    await desk.close();
    await room.close();
    await browser.close();
  });

  it('the doctor signs in to the day view, live updates on', async () => {
    await signIn(room.page, doctor);
    await heading(room.page, /^Today/);
    await room.page.getByRole('status').filter({ hasText: 'Live updates on' }).waitFor();
    // The doctor's own column is marked as theirs.
    await doctorColumn(room.page, doctor.fullName)
      .getByRole('heading', { name: /\(you\)/ })
      .waitFor();
    await expectGoodScreen(room.page, 'doctor-today');
  });

  it('the receptionist finds the patient by a misspelled surname', async () => {
    await signIn(desk.page, receptionist);
    await findPatient(desk.page, misspelled, new RegExp(`^${surname}, Margarethe`));
    await heading(desk.page, `${surname}, Margarethe`);
    await expectGoodScreen(desk.page, 'receptionist-patient-record');
  });

  it('books a free slot and the doctor sees it without a reload', async () => {
    const { page } = desk;
    // A mark in the doctor's page: a reload or navigation would wipe it.
    await room.page.evaluate(() => {
      (globalThis as unknown as { e2eMark?: string }).e2eMark = 'no reload';
    });

    await goTo(page, 'Book');
    await heading(page, 'Book an appointment');
    await page.getByRole('searchbox', { name: /search patient/i }).fill(misspelled);
    await page.getByRole('button', { name: new RegExp(`^${surname}, Margarethe`) }).click();
    await page.getByText(`Patient: ${surname}, Margarethe`).waitFor();
    await page.getByLabel('Doctor', { exact: true }).selectOption({ label: doctor.fullName });
    await page.getByLabel('Day', { exact: true }).fill(clinicDay());
    const slots = page.getByRole('group', { name: 'Free slots' }).getByRole('radio');
    await slots.first().waitFor();
    // The first slot at least 10 minutes ahead (one already begun cannot be booked). Each
    // radio's value is the slot's start (its name is the time in the browser's format).
    const soon = Date.now() + 10 * 60_000;
    const starts = await slots.evaluateAll((radios) =>
      radios.map((radio) => (radio as unknown as { value: string }).value),
    );
    const index = starts.findIndex((start) => Date.parse(start) >= soon);
    expect(index, `a free slot 10 minutes ahead among ${starts.join(' ')}`).toBeGreaterThanOrEqual(
      0,
    );
    await slots.nth(index).check();
    await expectGoodScreen(page, 'receptionist-book');
    await page.getByRole('button', { name: 'Book appointment' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Booked: ${surname}, Margarethe` })
      .waitFor();

    const column = doctorColumn(room.page, doctor.fullName);
    await expect.poll(() => appointmentsOf(column, surname).count(), { timeout: 30_000 }).toBe(1);
    const booked = appointmentsOf(column, surname);
    expect(await booked.locator('strong').textContent()).toBe(surname);
    // On the calendar: in the doctor's own column, the first, with its status in words, at the
    // slot's time on the time axis.
    expect(await booked.textContent()).toContain('Scheduled');
    expect(
      await dayCalendar(room.page).getByRole('region').first().getByRole('heading').textContent(),
    ).toContain(doctor.fullName);
    const start = starts[index] ?? '';
    const where = await placement(room.page, booked, new Date(start), clinicTimeZone());
    expect(where.hourHeight).toBeGreaterThan(0);
    expect(
      Math.abs(where.top - where.expected),
      `top of the block booked at ${start}`,
    ).toBeLessThan(2);
    const mark = await room.page.evaluate(
      () => (globalThis as unknown as { e2eMark?: string }).e2eMark,
    );
    expect(mark).toBe('no reload');
    await expectGoodScreen(room.page, 'doctor-today-booked');
    for (const session of [desk, room]) {
      expect(session.outsideRequests).toEqual([]);
      expect(session.pageErrors).toEqual([]);
    }
  });
});
