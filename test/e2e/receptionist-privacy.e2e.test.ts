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
  uploadDocument,
  type Person,
} from './api.js';
import { launchBrowser, newSession, signIn, type Session } from './browser.js';
import { findPatient, goTo, heading, mainNav, readableText } from './console.js';
import { describeE2e } from './context.js';
import { expectGoodScreen } from './screens.js';

/**
 * Issue 15, scenario 4: a receptionist never sees a medical field anywhere in the console. The
 * patient has allergies, a history, notes, a visit note, a prescription and a clinical document,
 * each with words found nowhere else; the receptionist visits every screen they can reach, and
 * neither the pages nor any API answer the browser received carry any of them.
 */
let browser: Browser;
let receptionist: Person;
let desk: Session;
const surname = 'Ostrowski';
// Words that exist only in the medical fields (and their labels' words).
const medical = {
  allergies: ['quinine', 'latex'],
  history: 'Appendectomy in 2011, mild asthma since childhood.',
  notes: 'Prefers morning appointments because of the inhaler schedule.',
  visitNote: 'Wheezing on exertion, inhaler technique reviewed.',
  medication: 'Salbutamol',
  clinicalFile: 'spirometry-results.pdf',
};
const forbidden = [
  ...medical.allergies,
  medical.history,
  medical.notes,
  medical.visitNote,
  medical.medication,
  medical.clinicalFile,
];
const forbiddenLabels = [/allerg/i, /medical (history|information)/i, /visit note/i, /prescri/i];

/** Every key that holds a medical field, wherever it sits in a JSON answer. */
function medicalKeys(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => medicalKeys(item, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  // A patient (it has an MRN) carries medical fields only for clinical roles.
  const own =
    'mrn' in record
      ? ['medical_history', 'allergies', 'notes']
          .filter((key) => key in record)
          .map((key) => `${path}.${key}`)
      : [];
  return [
    ...own,
    ...Object.entries(record).flatMap(([key, item]) => medicalKeys(item, `${path}.${key}`)),
  ];
}

async function expectNothingMedical(screen: string): Promise<void> {
  const text = await readableText(desk.page);
  for (const word of forbidden) expect.soft(text, `${screen} shows "${word}"`).not.toContain(word);
  for (const label of forbiddenLabels) {
    expect.soft(text, `${screen} shows ${String(label)}`).not.toMatch(label);
  }
}

describeE2e('a receptionist never sees a medical field', () => {
  beforeAll(async () => {
    const admin = await tokenFor(firstAdmin());
    const doctor = await createPerson(admin, 'doctor', 'Ines Carvalho');
    receptionist = await createPerson(admin, 'receptionist', 'Tomasz Nowak');
    const patientId = await createPatient(admin, {
      first_name: 'Wiktoria',
      last_name: surname,
      allergies: medical.allergies,
      medical_history: medical.history,
      notes: medical.notes,
      assigned_doctor_id: doctor.id,
    });
    const doctorToken = await tokenFor(doctor);
    ok(
      await call('POST', `/patients/${patientId}/notes`, {
        token: doctorToken,
        body: { content: medical.visitNote, visit_type: 'regular' },
      }),
      'visit note',
      201,
    );
    ok(
      await call('POST', '/prescriptions', {
        token: doctorToken,
        body: {
          patient_id: patientId,
          medication: medical.medication,
          dosage: '100 mcg',
          frequency: 'as needed',
          refills: 1,
        },
      }),
      'prescription',
      201,
    );
    await uploadDocument(doctorToken, patientId, {
      name: medical.clinicalFile,
      content: await samplePdf('FEV1 82% of predicted'),
      category: 'lab_result',
      description: 'Lung function',
    });
    // A non-clinical document the receptionist may see, so the list is not merely empty.
    await uploadDocument(doctorToken, patientId, {
      name: 'insurance-card.pdf',
      content: await samplePdf('Insurance card'),
      category: 'insurance',
      description: 'Insurance card',
    });
    await book(admin, {
      patient_id: patientId,
      doctor_id: doctor.id,
      starts_at: nextQuarter().toISOString(),
      duration_minutes: 15,
    });
    browser = await launchBrowser();
    desk = await newSession(browser);
  });
  afterAll(async () => {
    await desk.close();
    await browser.close();
  });

  it('sees the four staff screens, their own account and no Admin', async () => {
    await signIn(desk.page, receptionist);
    const links = await mainNav(desk.page).getByRole('link').allInnerTexts();
    expect(links.map((link) => link.trim())).toEqual([
      'Today',
      'Flow board',
      'Patients',
      'Book',
      'Account',
    ]);
  });

  it('finds nothing medical on any screen', async () => {
    const { page } = desk;
    const screens: [string, string | RegExp][] = [
      ['Today', /^Today/],
      ['Flow board', 'Flow board'],
      ['Book', 'Book an appointment'],
      ['Account', 'Account'],
    ];
    for (const [item, title] of screens) {
      await goTo(page, item);
      await heading(page, title);
      // The day's appointments (this patient's among them) have loaded.
      if (item !== 'Book' && item !== 'Account') await page.getByText(surname).first().waitFor();
      await expectNothingMedical(item);
      await expectGoodScreen(page, `receptionist-${item.toLowerCase().replace(/ /g, '-')}`);
    }

    await findPatient(page, surname, new RegExp(`^${surname}, Wiktoria`));
    await heading(page, `${surname}, Wiktoria`);
    await page.getByRole('button', { name: 'Download insurance-card.pdf' }).waitFor();
    // Every tab of the record, if it has tabs.
    const tabs = page.getByRole('tab');
    const count = await tabs.count();
    for (let i = 0; i < count; i++) {
      await tabs.nth(i).click();
      await expectNothingMedical(`record tab ${i + 1}`);
    }
    await expectNothingMedical('patient record');
    await expectGoodScreen(page, 'receptionist-record-privacy');
  });

  it('received no medical field from the API either', async () => {
    await desk.settle();
    // The API's answers (the console's own script holds its labels in every language).
    const answers = desk.responses.filter((response) =>
      new URL(response.url).pathname.startsWith('/api/'),
    );
    expect(answers.length).toBeGreaterThan(0);
    for (const response of answers) {
      for (const word of forbidden) {
        expect.soft(response.body, `${response.url} carries "${word}"`).not.toContain(word);
      }
      if (!response.contentType.includes('json') || response.body === '') continue;
      const keys = medicalKeys(JSON.parse(response.body));
      expect.soft(keys, `${response.url} has medical fields`).toEqual([]);
    }
    expect(desk.outsideRequests).toEqual([]);
    expect(desk.pageErrors).toEqual([]);
  });
});
