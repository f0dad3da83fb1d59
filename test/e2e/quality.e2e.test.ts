import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, createPatient, createPerson, firstAdmin, ok, tokenFor, type Person } from './api.js';
import { field } from '../http-client.js';
import { launchBrowser, newSession, signIn, type Session } from './browser.js';
import { findPatient, goTo, heading, mainNav } from './console.js';
import { describeE2e } from './context.js';
import { expectGoodScreen } from './screens.js';

/**
 * Issue 15's bar for every screen: the keyboard alone signs in, axe finds no serious or critical
 * violation, and nothing scrolls sideways at 768 px. The scenario files check the screens they
 * pass through; this one covers the rest: sign-in (and its error), the MFA step and every screen
 * of an admin.
 */
let browser: Browser;
let sessions: Session[] = [];
let mfaUser: Person;
let backupCode: string;

async function session(): Promise<Session> {
  const made = await newSession(browser);
  sessions.push(made);
  return made;
}

function isFocused(locator: Locator): Promise<boolean> {
  return locator.evaluate(
    (element) =>
      element ===
      (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
  );
}

/** Presses Tab until `target` has the focus (at most `limit` times). */
async function tabTo(page: Page, target: Locator, limit = 15): Promise<void> {
  for (let presses = 0; presses < limit; presses++) {
    if (await isFocused(target)) return;
    await page.keyboard.press('Tab');
  }
  expect(await isFocused(target), `reached with at most ${limit} Tab presses`).toBe(true);
}

describeE2e('every screen: keyboard, axe, 768 px', () => {
  beforeAll(async () => {
    const admin = await tokenFor(firstAdmin());
    await createPatient(admin, {
      first_name: 'Beatrix',
      last_name: 'Vandermeer',
      allergies: ['latex'],
    });
    mfaUser = await createPerson(admin, 'nurse', 'Mina Sato');
    const token = await tokenFor(mfaUser);
    const setup = ok(
      await call('POST', '/auth/mfa/totp/setup', { token, body: { password: mfaUser.password } }),
      'mfa setup',
    );
    const { TOTP, Secret } = await import('otpauth');
    const code = new TOTP({ secret: Secret.fromBase32(field(setup, 'secret')) }).generate();
    const enabled = ok(
      await call('POST', '/auth/mfa/totp/enable', { token, body: { code } }),
      'mfa enable',
    );
    // A backup code: a TOTP code of the step just used for enabling would be refused (no replay).
    const codes = (enabled.body as { backup_codes: string[] }).backup_codes;
    backupCode = codes[0] ?? '';
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const made of sessions) await made.close();
    sessions = [];
    await browser.close();
  });

  it('signs in with the keyboard alone (Tab and Enter)', async () => {
    const { page } = await session();
    await page.goto('/');
    await heading(page, 'Sign in');
    await expectGoodScreen(page, 'sign-in');
    const who = firstAdmin();
    await tabTo(page, page.getByLabel(/e-?mail|user\s*name/i));
    await page.keyboard.type(who.email);
    await tabTo(page, page.getByLabel(/^password$/i));
    await page.keyboard.type(who.password);
    await page.keyboard.press('Enter');
    await mainNav(page).waitFor();
  });

  it('explains a wrong password in words', async () => {
    const { page } = await session();
    await page.goto('/');
    await page.getByLabel(/e-?mail|user\s*name/i).fill(firstAdmin().email);
    await page.getByLabel(/^password$/i).fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /password is wrong/i })
      .waitFor();
    await expectGoodScreen(page, 'sign-in-error');
  });

  it('asks for the second factor, which the keyboard can give', async () => {
    const { page } = await session();
    await page.goto('/');
    await page.getByLabel(/e-?mail|user\s*name/i).fill(mfaUser.email);
    await page.getByLabel(/^password$/i).fill(mfaUser.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading(page, 'Two-factor authentication');
    await expectGoodScreen(page, 'mfa');
    await tabTo(page, page.getByRole('textbox', { name: 'Code' }));
    await page.keyboard.type(backupCode);
    await page.keyboard.press('Enter');
    await mainNav(page).waitFor();
  });

  it('every admin screen passes', async () => {
    const { page, outsideRequests, pageErrors } = await session();
    await signIn(page, firstAdmin());
    for (const [item, title] of [
      ['Today', /^Today/],
      ['Flow board', 'Flow board'],
      ['Book', 'Book an appointment'],
    ] as const) {
      await goTo(page, item);
      await heading(page, title);
      await expectGoodScreen(page, `admin-${item.toLowerCase().replace(/ /g, '-')}`);
    }
    await goTo(page, 'Patients');
    await heading(page, 'Patients');
    await expectGoodScreen(page, 'admin-patients');
    await findPatient(page, 'Vandermeer', /^Vandermeer, Beatrix/);
    await heading(page, 'Vandermeer, Beatrix');
    await page.getByText(/Allergies: .*latex/).waitFor();
    await expectGoodScreen(page, 'admin-patient-record');

    await goTo(page, 'Admin');
    await heading(page, 'Administration');
    const sections = page.getByRole('navigation', { name: 'Administration sections' });
    for (const section of ['Users', 'Audit trail', 'Practice figures', 'System']) {
      await sections.getByRole('link', { name: section }).click();
      await page.getByRole('heading', { name: section }).first().waitFor();
      await expectGoodScreen(page, `admin-${section.toLowerCase().replace(/ /g, '-')}`);
    }
    expect(outsideRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('a staff member is created from the Users screen', async () => {
    const { page } = await session();
    await signIn(page, firstAdmin());
    await goTo(page, 'Admin');
    await page
      .getByRole('navigation', { name: 'Administration sections' })
      .getByRole('link', { name: 'Users' })
      .click();
    await page.getByText('New user').click();
    // The form inside "New user" (the list above has a role filter of its own).
    const form = page.locator('details').filter({ hasText: 'New user' });
    const handle = `e2e.${Date.now().toString(36)}`;
    await form.getByLabel('Email', { exact: true }).fill(`${handle}@e2e.medcore.test`);
    await form.getByLabel('Username', { exact: true }).fill(handle);
    await form.getByLabel('Full name', { exact: true }).fill('Oskar Lind');
    await form.getByLabel('Initial password', { exact: true }).fill('a new colleague 2026');
    await form.getByLabel('Role', { exact: true }).selectOption('receptionist');
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('cell', { name: `${handle}@e2e.medcore.test` }).waitFor();
    await expectGoodScreen(page, 'admin-users-created');
  });
});
