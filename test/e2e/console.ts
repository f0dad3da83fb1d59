import type { Locator, Page } from 'playwright-core';

/**
 * The console's screens as a person finds them: by role and accessible name, the names the
 * console publishes for testers (issue 15, section 5, and the console's conventions). Nothing
 * here knows the console's markup beyond those names.
 */

/** A link of the main navigation ("Today", "Flow board", "Patients", "Book", "Admin"). */
export function mainNav(page: Page): Locator {
  return page.getByRole('navigation', { name: 'Main' });
}

export async function goTo(page: Page, item: string): Promise<void> {
  await mainNav(page).getByRole('link', { name: item, exact: true }).click();
}

/** Waits for a screen's heading (every screen has one h1). */
export async function heading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** Patients: types into the search box and opens the result that names the patient. */
export async function findPatient(page: Page, typed: string, shown: RegExp): Promise<void> {
  await goTo(page, 'Patients');
  await heading(page, 'Patients');
  await page.getByRole('searchbox', { name: /search patients/i }).fill(typed);
  const results = page.getByRole('region', { name: 'Results' });
  await results.getByRole('link', { name: shown }).click();
}

/** The region of one doctor's column on the day view ("<name>" or "<name> (you)"). */
export function doctorColumn(page: Page, fullName: string): Locator {
  return page.getByRole('region', { name: new RegExp(`^${escape(fullName)}`) });
}

/** The appointments (list items) in a doctor's column that name a surname. */
export function appointmentsOf(column: Locator, surname: string): Locator {
  return column.getByRole('listitem').filter({ hasText: surname });
}

/** A section (h2) of the patient record, as a region. */
export function recordSection(page: Page, name: string): Locator {
  return page.getByRole('region', { name });
}

export function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Everything a person can read on the page: its text, and the values in its form fields. */
export async function readableText(page: Page): Promise<string> {
  const text = await page.locator('body').innerText();
  const values = await page
    .locator('input:not([type=hidden]), textarea, select')
    .evaluateAll((elements) =>
      elements.map((element) => (element as unknown as { value: string }).value),
    );
  return [text, ...values].join('\n');
}
