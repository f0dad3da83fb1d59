import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { field } from '../http-client.js';
import {
  book,
  call,
  createPatient,
  createPerson,
  firstAdmin,
  nextQuarter,
  ok,
  tokenFor,
  uploadDocument,
  type Person,
} from './api.js';
import { launchBrowser, newSession, signIn, type Session } from './browser.js';
import { findPatient, goTo, heading, recordSection } from './console.js';
import { clinicTimeZone, describeE2e } from './context.js';
import { expectGoodScreen } from './screens.js';

/**
 * The record's actions: at the front desk a receptionist registers a patient through the form
 * (a likely duplicate explained and saved anyway, a taken email shown at the email field), then
 * moves one appointment of another patient to another free slot (a slot taken meanwhile is
 * refused, naming who holds it) and cancels another; in the consulting room the doctor completes
 * and cancels prescriptions and deletes an image document, shown as a thumbnail.
 */
let browser: Browser;
let admin: string;
let doctor: Person;
let doctorToken: string;
let receptionist: Person;
let desk: Session;
let room: Session;

const tag = randomBytes(3).toString('hex');
// Registered through the form; a patient of this name and birth date already exists.
const newcomer = { first: 'Ottoline', last: 'Quillfeather', born: '1984-03-09' };
const takenEmail = `taken.${tag}@e2e.medcore.test`;
// The patient whose appointments, prescriptions and documents the actions change.
const surname = 'Vanderholt';
let patientId: string;
let toMove: { id: string; startsAt: Date };
let toCancel: { id: string; startsAt: Date };
let completeRx: string;
let cancelRx: string;
let scanId: string;
// Booked in the way of a reschedule, by another patient.
const blocker = 'Ashcombe';
let blockerId: string;

/** How the record writes a moment ("Dec 3, 2026, 2:15 PM"): the clinic's clock, English. */
function when(instant: Date): string {
  return new Intl.DateTimeFormat('en', {
    timeZone: clinicTimeZone(),
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(instant);
}

describeE2e('record actions: register, reschedule, cancel, prescriptions, documents', () => {
  beforeAll(async () => {
    admin = await tokenFor(firstAdmin());
    doctor = await createPerson(admin, 'doctor', 'Rosalind Achterberg');
    receptionist = await createPerson(admin, 'receptionist', 'Milo Okonkwo');
    doctorToken = await tokenFor(doctor);
    await createPatient(admin, {
      first_name: newcomer.first,
      last_name: newcomer.last,
      date_of_birth: newcomer.born,
    });
    await createPatient(admin, {
      first_name: 'Other',
      last_name: 'Emailholder',
      email: takenEmail,
    });

    patientId = await createPatient(admin, { first_name: 'Cornelius', last_name: surname });
    blockerId = await createPatient(admin, { first_name: 'Bea', last_name: blocker });
    const first = nextQuarter(30);
    const second = new Date(first.getTime() + 60 * 60_000);
    toMove = {
      id: await book(admin, {
        patient_id: patientId,
        doctor_id: doctor.id,
        starts_at: first.toISOString(),
        duration_minutes: 15,
      }),
      startsAt: first,
    };
    toCancel = {
      id: await book(admin, {
        patient_id: patientId,
        doctor_id: doctor.id,
        starts_at: second.toISOString(),
        duration_minutes: 15,
      }),
      startsAt: second,
    };
    const prescribe = async (medication: string) =>
      field(
        ok(
          await call('POST', '/prescriptions', {
            token: doctorToken,
            body: {
              patient_id: patientId,
              medication,
              dosage: '500 mg',
              frequency: 'twice a day',
              refills: 0,
            },
          }),
          'prescription',
          201,
        ),
        'id',
      );
    completeRx = await prescribe('Metformin');
    cancelRx = await prescribe('Ibuprofen');
    const png = await sharp({
      create: { width: 120, height: 80, channels: 3, background: { r: 40, g: 120, b: 200 } },
    })
      .png()
      .toBuffer();
    scanId = await uploadDocument(doctorToken, patientId, {
      name: 'knee-scan.png',
      content: png,
      category: 'imaging',
      description: 'Knee, lateral',
      type: 'image/png',
    });
    browser = await launchBrowser();
    desk = await newSession(browser);
    room = await newSession(browser);
  });
  afterAll(async () => {
    await desk.close();
    await room.close();
    await browser.close();
  });

  it('the receptionist registers a patient: duplicate explained, taken email at its field', async () => {
    const { page } = desk;
    await signIn(page, receptionist);
    await goTo(page, 'Patients');
    await heading(page, 'Patients');
    await page.getByRole('button', { name: 'New patient' }).click();
    const form = page.getByRole('region', { name: 'Register a new patient' });
    // The front desk writes no medical field.
    expect(await form.getByLabel(/allerg|medical history/i).count()).toBe(0);
    await form.getByLabel('First name').fill(newcomer.first);
    await form.getByLabel('Last name').fill(newcomer.last);
    await form.getByLabel('Date of birth').fill(newcomer.born);
    await form.getByLabel('Email', { exact: true }).fill(takenEmail);
    await form.getByLabel('Phone', { exact: true }).fill('+44 20 7946 0000');
    await form.getByRole('button', { name: 'Add emergency contact' }).click();
    await form.getByLabel('Contact name 1').fill('Percival Quillfeather');
    await form.getByLabel('Relationship 1').fill('brother');
    await form.getByLabel('Contact phone 1').fill('+44 20 7946 0001');
    await form.getByRole('button', { name: 'Register patient' }).click();

    // Same name and birth date as a registered patient: explained, with both ways out.
    const duplicate = form.getByRole('alert').filter({ hasText: /already registered/ });
    await duplicate.getByText(`${newcomer.last}, ${newcomer.first}`, { exact: false }).waitFor();
    await duplicate.getByRole('link', { name: 'Open the existing record' }).waitFor();
    await expectGoodScreen(page, 'receptionist-new-patient-duplicate');
    await duplicate.getByRole('button', { name: 'Save as a new patient anyway' }).click();

    // The email belongs to someone else: said at the email field.
    const email = form.getByLabel('Email', { exact: true });
    await expect.poll(() => email.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await email.getAttribute('aria-describedby')) ?? '';
    await expect
      .poll(() => page.locator(`[id="${describedBy}"]`).innerText())
      .toMatch(/already used/i);
    await expectGoodScreen(page, 'receptionist-new-patient-email-taken');

    await email.fill(`ottoline.${tag}@e2e.medcore.test`);
    await form.getByRole('button', { name: 'Register patient' }).click();
    // The name and birth date were confirmed as another person: saved, and the record opens.
    await heading(page, `${newcomer.last}, ${newcomer.first}`);
    await page.getByText(/^MRN: MRN\d{8}/).waitFor();
    const newId = new URL(page.url()).pathname.split('/').pop() ?? '';
    const saved = ok(await call('GET', `/patients/${newId}`, { token: admin }), 'new patient');
    expect(saved.body).toMatchObject({
      first_name: newcomer.first,
      last_name: newcomer.last,
      date_of_birth: newcomer.born,
      email: `ottoline.${tag}@e2e.medcore.test`,
      emergency_contacts: [
        { name: 'Percival Quillfeather', relationship: 'brother', phone: '+44 20 7946 0001' },
      ],
    });
  });

  it('the receptionist moves an appointment to another free slot; a taken slot names its holder', async () => {
    const { page } = desk;
    await findPatient(page, surname, new RegExp(`^${surname}, Cornelius`));
    await heading(page, `${surname}, Cornelius`);
    const appointments = recordSection(page, 'Appointments');
    const oldWhen = when(toMove.startsAt);
    await appointments
      .getByRole('button', { name: `Reschedule appointment on ${oldWhen}`, exact: true })
      .click();
    const form = appointments.getByRole('form', { name: `Reschedule appointment on ${oldWhen}` });
    const slots = form.getByRole('group', { name: 'Free slots' }).getByRole('radio');
    await slots.first().waitFor();
    const count = await slots.count();
    expect(count).toBeGreaterThan(1);
    await expectGoodScreen(page, 'receptionist-reschedule');

    // The person picks the second-to-last slot, and someone else books it meanwhile: the live
    // update takes it off the list, but it is still the one picked.
    const takenSlot = (await slots.nth(count - 2).getAttribute('value')) ?? '';
    await slots.nth(count - 2).check();
    await book(admin, {
      patient_id: blockerId,
      doctor_id: doctor.id,
      starts_at: takenSlot,
      duration_minutes: 15,
    });
    await expect.poll(() => form.locator(`input[value="${takenSlot}"]`).count()).toBe(0);
    await form.getByRole('button', { name: 'Move appointment' }).click();
    await form
      .getByRole('alert')
      .filter({ hasText: new RegExp(`already taken by ${blocker}, Bea`) })
      .waitFor();

    // The last slot of the day is free: the appointment moves there.
    const target = (await slots.last().getAttribute('value')) ?? '';
    expect(target).not.toBe(takenSlot);
    await slots.last().check();
    await form.getByRole('button', { name: 'Move appointment' }).click();
    await appointments
      .getByRole('button', { name: `Reschedule appointment on ${when(new Date(target))}` })
      .waitFor();
    const moved = ok(await call('GET', `/appointments/${toMove.id}`, { token: admin }), 'moved');
    expect(new Date(field(moved, 'starts_at')).getTime()).toBe(new Date(target).getTime());
  });

  it('the receptionist cancels an appointment with a reason', async () => {
    const { page } = desk;
    const appointments = recordSection(page, 'Appointments');
    const at = when(toCancel.startsAt);
    await appointments
      .getByRole('button', { name: `Cancel appointment on ${at}`, exact: true })
      .click();
    const form = appointments.getByRole('form', { name: `Cancel appointment on ${at}` });
    await form.getByLabel('Reason for cancelling').fill('Patient is travelling');
    await expectGoodScreen(page, 'receptionist-cancel-appointment');
    await form.getByRole('button', { name: 'Cancel appointment', exact: true }).click();
    await appointments
      .getByRole('listitem')
      .filter({ hasText: at })
      .filter({ hasText: 'Cancelled' })
      .waitFor();
    const cancelled = ok(await call('GET', `/appointments/${toCancel.id}`, { token: admin }), 'x');
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'Patient is travelling',
    });
    // Nothing to move or cancel on a cancelled appointment.
    await expect
      .poll(() => appointments.getByRole('button', { name: `Cancel appointment on ${at}` }).count())
      .toBe(0);
    expect(desk.outsideRequests).toEqual([]);
    expect(desk.pageErrors).toEqual([]);
  });

  it('the doctor completes one prescription and cancels another', async () => {
    const { page } = room;
    await signIn(page, doctor);
    await findPatient(page, surname, new RegExp(`^${surname}, Cornelius`));
    await heading(page, `${surname}, Cornelius`);
    const prescriptions = recordSection(page, 'Prescriptions');
    await prescriptions.getByRole('button', { name: 'PDF of Metformin' }).waitFor();
    await prescriptions.getByRole('button', { name: 'Complete Metformin' }).click();
    await prescriptions
      .getByRole('listitem')
      .filter({ hasText: 'Metformin' })
      .filter({ hasText: 'Completed' })
      .waitFor();

    await prescriptions.getByRole('button', { name: 'Cancel Ibuprofen' }).click();
    const confirm = prescriptions.getByRole('form', { name: 'Cancel Ibuprofen' });
    await confirm.getByLabel('Reason (optional)').fill('Stomach upset');
    await expectGoodScreen(page, 'doctor-cancel-prescription');
    await confirm.getByRole('button', { name: 'Cancel prescription' }).click();
    await prescriptions
      .getByRole('listitem')
      .filter({ hasText: 'Ibuprofen' })
      .filter({ hasText: 'Cancelled: Stomach upset' })
      .waitFor();
    // Ended prescriptions offer no more ending.
    expect(await prescriptions.getByRole('button', { name: /^(Complete|Cancel) / }).count()).toBe(
      0,
    );
    const read = async (id: string) =>
      ok(await call('GET', `/prescriptions/${id}`, { token: doctorToken }), 'prescription').body;
    expect(await read(completeRx)).toMatchObject({ status: 'completed' });
    expect(await read(cancelRx)).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'Stomach upset',
    });
  });

  it('the doctor sees the image as a thumbnail and deletes it after confirming', async () => {
    const { page } = room;
    const documents = recordSection(page, 'Documents');
    const thumbnail = documents.getByRole('img', { name: 'Thumbnail of knee-scan.png' });
    await thumbnail.waitFor();
    // Loaded from the API with the bearer token, shown from a data: URL (no token in any URL).
    expect(await thumbnail.getAttribute('src')).toMatch(/^data:image\/jpeg;base64,/);
    await expect
      .poll(() =>
        thumbnail.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBeGreaterThan(0);
    expect(
      room.responses.some((response) =>
        response.url.endsWith(`/api/v1/documents/${scanId}/thumbnail`),
      ),
    ).toBe(true);

    await documents.getByRole('button', { name: 'Delete knee-scan.png' }).click();
    const confirm = documents.getByRole('group', { name: 'Delete knee-scan.png' });
    await confirm.getByText(/disappears from the record/).waitFor();
    await expectGoodScreen(page, 'doctor-delete-document');
    await confirm.getByRole('button', { name: 'Yes, delete' }).click();
    await documents.getByText('No documents.').waitFor();
    const gone = await call('GET', `/documents/${scanId}`, { token: doctorToken });
    expect(gone.status).toBe(404);
    expect(room.outsideRequests).toEqual([]);
    expect(room.pageErrors).toEqual([]);
  });
});
