import type { Browser, Locator, Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auditActions } from '../../src/modules/audit/audit.actions.js';
import { call, createPerson, firstAdmin, ok, tokenFor, type Person } from './api.js';
import { launchBrowser, newSession, signIn, type Session } from './browser.js';
import { goTo, heading, mainNav } from './console.js';
import { baseUrl, describeE2e } from './context.js';
import { expectGoodScreen } from './screens.js';

/**
 * The Account screen every signed-in person has (profile, password, two-factor authentication,
 * sessions) and the admin's System tab and audit action filter, found by role and accessible
 * name. The TOTP code is computed from the secret the page shows, with `otpauth` as the server
 * tests and quality.e2e.test.ts do.
 */
let browser: Browser;
let sessions: Session[] = [];
let nurse: Person;
const newPassword = 'a fresh passphrase for Greta 2026';

async function session(): Promise<Session> {
  const made = await newSession(browser);
  sessions.push(made);
  return made;
}

/** The text of the elements a field's `aria-describedby` names: where its messages are. */
function description(field: Locator): Promise<string> {
  return field.evaluate((element) => {
    const doc = (globalThis as unknown as { document: { getElementById(id: string): unknown } })
      .document;
    const ids = (
      (element as { getAttribute(name: string): string | null }).getAttribute('aria-describedby') ??
      ''
    )
      .split(/\s+/)
      .filter(Boolean);
    return ids
      .map((id) => (doc.getElementById(id) as { textContent: string | null } | null)?.textContent)
      .join(' ');
  });
}

async function openAccount(page: Page): Promise<void> {
  await goTo(page, 'Account');
  await heading(page, 'Account');
}

/** Whether an access token still works (GET /users/me). */
async function stillValid(token: string): Promise<boolean> {
  return (await call('GET', '/users/me', { token })).status === 200;
}

describeE2e('account: profile, password, two-factor, sessions; admin system and audit', () => {
  beforeAll(async () => {
    const admin = await tokenFor(firstAdmin());
    nurse = await createPerson(admin, 'nurse', 'Greta Lindqvist');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const made of sessions) await made.close();
    sessions = [];
    await browser.close();
  });

  it('edits the profile, ends another session, changes the password and signs in with it', async () => {
    const elsewhere = await tokenFor(nurse);
    const { page, pageErrors, outsideRequests } = await session();
    await signIn(page, nurse);
    await openAccount(page);
    await expectGoodScreen(page, 'account');

    const profile = page.getByRole('region', { name: 'Profile' });
    await profile.getByLabel('Full name', { exact: true }).fill('Greta M. Lindqvist');
    await profile.getByRole('button', { name: 'Save profile' }).click();
    await profile.getByRole('status').filter({ hasText: 'Profile saved.' }).waitFor();
    const me = ok(await call('GET', '/users/me', { token: elsewhere }), 'me');
    expect((me.body as { full_name: string }).full_name).toBe('Greta M. Lindqvist');

    // Two live sessions: this browser's (marked) and the one signed in through the API.
    const list = page.getByRole('region', { name: 'Sessions' });
    const rows = list.getByRole('row');
    await expect.poll(() => rows.count()).toBe(3);
    await expect.poll(() => rows.filter({ hasText: 'This session' }).count()).toBe(1);
    await list.getByRole('button', { name: /^End session started / }).click();
    await list.getByRole('status').filter({ hasText: 'Session ended.' }).waitFor();
    await expect.poll(() => rows.count()).toBe(2);
    expect(await stillValid(elsewhere)).toBe(false);
    await expectGoodScreen(page, 'account-sessions');

    // The API's password rules, next to the field they concern.
    const password = page.getByRole('region', { name: 'Password' });
    const current = password.getByLabel('Current password', { exact: true });
    const fresh = password.getByLabel('New password', { exact: true });
    const repeat = password.getByLabel('Repeat the new password', { exact: true });
    await current.fill(nurse.password);
    await fresh.fill('short');
    await repeat.fill('short');
    await password.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => description(fresh)).toMatch(/at least 8 characters/);
    expect(await fresh.getAttribute('aria-invalid')).toBe('true');
    await current.fill('not my password at all');
    await fresh.fill(newPassword);
    await repeat.fill(newPassword);
    await password.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => description(current)).toMatch(/incorrect/);
    await expectGoodScreen(page, 'account-password-errors');

    await current.fill(nurse.password);
    await password.getByRole('button', { name: 'Change password' }).click();
    await password
      .getByRole('status')
      .filter({ hasText: 'Password changed. Your other sessions have ended.' })
      .waitFor();

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await heading(page, 'Sign in');
    expect(
      (
        await call('POST', '/auth/login', {
          body: { email: nurse.email, password: nurse.password },
        })
      ).status,
    ).toBe(401);
    nurse = { ...nurse, password: newPassword };
    await signIn(page, nurse);
    await mainNav(page).waitFor();
    expect(outsideRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('sets up two-factor authentication from the page, then turns it off with a backup code', async () => {
    const { page, pageErrors } = await session();
    await signIn(page, nurse);
    await openAccount(page);
    const mfa = page.getByRole('region', { name: 'Two-factor authentication' });
    await mfa.getByLabel('Password', { exact: true }).fill(nurse.password);
    await mfa.getByRole('button', { name: 'Set up two-factor authentication' }).click();

    await mfa.getByRole('img', { name: 'QR code of the setup link' }).waitFor();
    const secret = (await mfa.getByRole('textbox', { name: 'Secret key' }).inputValue()).replace(
      /\s+/g,
      '',
    );
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = await mfa.getByRole('textbox', { name: 'Setup link (otpauth URI)' }).inputValue();
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    expect(uri).toContain(`secret=${secret}`);
    await expectGoodScreen(page, 'account-mfa-setup');

    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    await mfa.getByRole('textbox', { name: 'Code from the app' }).fill(code);
    await mfa.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    const codes = mfa.getByRole('list', { name: 'Backup codes' }).getByRole('listitem');
    await expect.poll(() => codes.count()).toBe(10);
    const backupCodes = await codes.allInnerTexts();
    await mfa.getByText(/shown only this once/).waitFor();
    await expectGoodScreen(page, 'account-mfa-backup-codes');

    // On now: the password alone no longer signs in.
    const login = ok(
      await call('POST', '/auth/login', { body: { email: nurse.email, password: nurse.password } }),
      'login',
    );
    expect((login.body as { mfa_required?: boolean }).mfa_required).toBe(true);

    await mfa.getByRole('button', { name: 'I have stored the backup codes' }).click();
    await mfa.getByLabel('Password', { exact: true }).fill(nurse.password);
    await mfa
      .getByRole('textbox', { name: 'Code from the app or a backup code' })
      .fill(backupCodes[0] ?? '');
    await mfa.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    await mfa
      .getByRole('status')
      .filter({ hasText: 'Two-factor authentication is off.' })
      .first()
      .waitFor();
    const plain = ok(
      await call('POST', '/auth/login', { body: { email: nurse.email, password: nurse.password } }),
      'login',
    );
    expect((plain.body as { access_token?: string }).access_token).toBeTruthy();
    expect(pageErrors).toEqual([]);
  });

  it('ending this session from the list signs out here, cleanly', async () => {
    const { page, pageErrors } = await session();
    await signIn(page, nurse);
    await openAccount(page);
    await page.getByRole('button', { name: 'End session: this one (signs you out here)' }).click();
    await heading(page, 'Sign in');
    await page.getByRole('status').filter({ hasText: 'You have signed out.' }).waitFor();
    // The cookies are gone too: a reload is a plain sign-in screen, not "session expired".
    await page.reload();
    await heading(page, 'Sign in');
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('"Sign out everywhere" ends every session and leads to the sign-in screen', async () => {
    const elsewhere = await tokenFor(nurse);
    const { page, pageErrors } = await session();
    await signIn(page, nurse);
    await openAccount(page);
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await heading(page, 'Sign in');
    await page
      .getByRole('status')
      .filter({ hasText: 'You have signed out on every device.' })
      .waitFor();
    await expectGoodScreen(page, 'account-signed-out-everywhere');
    expect(await stillValid(elsewhere)).toBe(false);
    await page.reload();
    await heading(page, 'Sign in');
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('the admin opens the System tab and filters the audit trail by an action from the list', async () => {
    const { page, pageErrors, outsideRequests } = await session();
    await signIn(page, firstAdmin());
    await goTo(page, 'Admin');
    await heading(page, 'Administration');
    const sections = page.getByRole('navigation', { name: 'Administration sections' });

    await sections.getByRole('link', { name: 'System' }).click();
    await page.getByRole('heading', { level: 2, name: 'System' }).waitFor();
    const health = (await (await fetch(`${baseUrl()}/health`)).json()) as { version: string };
    await page.getByRole('definition').filter({ hasText: health.version }).first().waitFor();
    await page.getByRole('definition').filter({ hasText: 'Embedded (PGlite)' }).waitFor();
    await page.getByRole('heading', { level: 3, name: 'Rate limits' }).waitFor();
    await expectGoodScreen(page, 'admin-system');

    await sections.getByRole('link', { name: 'Audit trail' }).click();
    const action = page.getByRole('combobox', { name: 'Action' });
    await action.waitFor();
    // The choices are exactly the server's audit actions (and "Any action").
    const values = await action
      .locator('option')
      .evaluateAll((options) => options.map((option) => (option as { value: string }).value));
    expect(values).toEqual(['', ...auditActions]);
    await action.selectOption('auth.password_change');
    await page.getByRole('combobox', { name: 'Outcome' }).selectOption('success');
    await page.getByRole('button', { name: 'Apply filters' }).click();

    const table = page.getByRole('table');
    const rows = table.getByRole('row');
    const matching = table.getByRole('cell', { name: 'auth.password_change', exact: true });
    await expect
      .poll(async () => {
        const shown = (await rows.count()) - 1;
        return shown > 0 && shown === (await matching.count());
      })
      .toBe(true);
    // The nurse's change from the first scenario is among them.
    await rows
      .filter({ hasText: nurse.id.slice(0, 8) })
      .first()
      .waitFor();
    await expectGoodScreen(page, 'admin-audit-filtered');
    expect(outsideRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
