import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  book,
  call,
  createPatient,
  createPerson,
  firstAdmin,
  nextQuarter,
  ok,
  samplePdf,
  tokenFor,
  type Person,
} from './api.js';
import { launchBrowser, newSession, signIn, type Session } from './browser.js';
import { findPatient, goTo, heading, recordSection } from './console.js';
import { describeE2e } from './context.js';
import { expectGoodScreen } from './screens.js';

/**
 * Issue 15, scenarios 2 and 3: a doctor checks the patient in, writes a visit note and a
 * prescription that hits the patient's allergy (warned before and after saving) and uploads a
 * PDF; then an admin verifies the audit chain and finds each of those actions in the trail.
 */
let browser: Browser;
let doctor: Person;
let room: Session;
let office: Session;
let patientId: string;
const surname = 'Penhaligon';
const noteText = 'Reports a sore throat for three days; no fever.';

describeE2e("a doctor's visit, then the admin's audit", () => {
  beforeAll(async () => {
    const admin = await tokenFor(firstAdmin());
    doctor = await createPerson(admin, 'doctor', 'Hugo Marchetti');
    patientId = await createPatient(admin, {
      first_name: 'Quentin',
      last_name: surname,
      allergies: ['penicillin'],
      assigned_doctor_id: doctor.id,
    });
    // Booked and confirmed by the front desk (through the API): the doctor takes it from there.
    const starts = nextQuarter();
    const appointment = await book(admin, {
      patient_id: patientId,
      doctor_id: doctor.id,
      starts_at: starts.toISOString(),
      duration_minutes: 15,
    });
    ok(await call('POST', `/appointments/${appointment}/confirm`, { token: admin }), 'confirm');
    browser = await launchBrowser();
    room = await newSession(browser);
    office = await newSession(browser);
  });
  afterAll(async () => {
    await room.close();
    await office.close();
    await browser.close();
  });

  it('the doctor checks the patient in on the flow board', async () => {
    const { page } = room;
    await signIn(page, doctor);
    await goTo(page, 'Flow board');
    await heading(page, 'Flow board');
    await expectGoodScreen(page, 'doctor-flow-board');
    // "Check in <surname>, <time>": the patient's only appointment.
    await page.getByRole('button', { name: new RegExp(`^Check in ${surname}, `) }).click();
    const checkedIn = page.getByRole('region', { name: /^Checked in/ });
    await checkedIn.getByText(surname).waitFor();
  });

  it('opens the record, allergies in view, and writes a visit note', async () => {
    const { page } = room;
    await findPatient(page, surname, new RegExp(`^${surname}, Quentin`));
    await heading(page, `${surname}, Quentin`);
    await page.getByText(/Allergies: .*penicillin/).waitFor();
    await expectGoodScreen(page, 'doctor-patient-record');

    const notes = recordSection(page, 'Visit notes');
    await notes.getByRole('textbox', { name: 'Visit note' }).fill(noteText);
    await notes.getByRole('button', { name: 'Add note' }).click();
    await notes.getByText(noteText).waitFor();
  });

  it('prescribes a drug of the class the patient is allergic to: warned before and after saving', async () => {
    const { page } = room;
    const prescriptions = recordSection(page, 'Prescriptions');
    // A member of the allergen's class, not its name: only the server's check knows it.
    await prescriptions.getByLabel('Medication').fill('Amoxicillin');
    await prescriptions.getByLabel('Dosage').fill('500 mg');
    await prescriptions.getByLabel('Frequency').fill('three times a day');
    await prescriptions.getByLabel('Duration (days)').fill('7');
    await prescriptions
      .getByRole('alert')
      .filter({ hasText: /Allergy warning: .*penicillin/i })
      .waitFor();
    await expectGoodScreen(page, 'doctor-prescription-warning');
    await prescriptions.getByRole('button', { name: 'Prescribe' }).click();
    await prescriptions
      .getByRole('status')
      .getByText(/Saved with an allergy warning: .*penicillin/i)
      .waitFor();
    await prescriptions.getByRole('listitem').filter({ hasText: 'Amoxicillin' }).first().waitFor();
  });

  it('uploads a PDF and lists it', async () => {
    const { page } = room;
    const documents = recordSection(page, 'Documents');
    await documents.getByLabel('File').setInputFiles({
      name: 'referral-letter.pdf',
      mimeType: 'application/pdf',
      buffer: await samplePdf('Referral to ENT, written in the e2e test.'),
    });
    await documents.getByLabel('Category').selectOption({ label: 'Referral' });
    await documents.getByLabel('Description').fill('Referral to ENT');
    await documents.getByRole('button', { name: 'Upload' }).click();
    await documents.getByRole('status').filter({ hasText: 'Uploaded.' }).waitFor();
    await documents.getByRole('button', { name: 'Download referral-letter.pdf' }).waitFor();
    await expectGoodScreen(page, 'doctor-record-documents');
    expect(room.outsideRequests).toEqual([]);
    expect(room.pageErrors).toEqual([]);
  });

  it('the admin verifies the audit chain and finds each of those actions', async () => {
    const { page } = office;
    await signIn(page, firstAdmin());
    await goTo(page, 'Admin');
    await heading(page, 'Administration');
    await page
      .getByRole('navigation', { name: 'Administration sections' })
      .getByRole('link', { name: 'Audit trail' })
      .click();
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /The audit chain is intact: \d+ rows checked/ })
      .waitFor();

    // One action at a time (newest first, a page holds 20): each done by the doctor, whose
    // account the "Who" column names by role and the start of the id.
    const trail = page.getByRole('table');
    for (const action of [
      'appointment.transition',
      'visit_note.create',
      'prescription.create',
      'document.create',
    ]) {
      await page.getByLabel('Action', { exact: true }).selectOption(action);
      await page.getByLabel('Patient ID', { exact: true }).fill(patientId);
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await trail
        .getByRole('row')
        .filter({ hasText: action })
        .filter({ hasText: doctor.id.slice(0, 8) })
        .first()
        .waitFor();
    }
    await expectGoodScreen(page, 'admin-audit-trail');
    expect(office.outsideRequests).toEqual([]);
    expect(office.pageErrors).toEqual([]);
  });
});
