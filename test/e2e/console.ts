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

/** The day view's calendar: the scroll region holding the doctors' columns. */
export function dayCalendar(page: Page): Locator {
  return page.getByRole('region', { name: 'Day calendar' });
}

/**
 * Where the day calendar puts an instant: the label of the hour it falls in on the clinic's clock,
 * written as the page writes times (its own locale, so the same Intl as the console), the next
 * hour's label, and the minutes into the hour. Only the page's own formatting is used.
 */
export async function hourLabels(
  page: Page,
  instant: Date,
  timeZone: string,
): Promise<{ hour: Locator; next: Locator; minute: number }> {
  const found = await page.evaluate(
    ([iso, zone]) => {
      const lang =
        (globalThis as unknown as { document: { documentElement: { lang: string } } }).document
          .documentElement.lang || 'en';
      const parts = new Intl.DateTimeFormat('en-GB', {
        timeZone: zone,
        hour: 'numeric',
        minute: 'numeric',
        hourCycle: 'h23',
      }).formatToParts(new Date(iso));
      const part = (type: string) => Number(parts.find((item) => item.type === type)?.value);
      const write = new Intl.DateTimeFormat(lang, {
        timeZone: 'UTC',
        hour: '2-digit',
        minute: '2-digit',
      });
      const hour = part('hour');
      return {
        labels: [hour, hour + 1].map((h) => write.format(new Date(Date.UTC(2000, 0, 1, h)))),
        minute: part('minute'),
      };
    },
    [instant.toISOString(), timeZone] as const,
  );
  const calendar = dayCalendar(page);
  return {
    // The time axis comes first in the calendar (the "now" line's label could read the same).
    hour: calendar.getByText(found.labels[0] ?? '', { exact: true }).first(),
    next: calendar.getByText(found.labels[1] ?? '', { exact: true }).first(),
    minute: found.minute,
  };
}

/**
 * A block's top edge on the day calendar, and where the time axis says `instant` is: the hour's
 * label plus the minutes into it, on the scale between that label and the next. Pixels.
 */
export async function placement(
  page: Page,
  block: Locator,
  instant: Date,
  timeZone: string,
): Promise<{ top: number; expected: number; hourHeight: number }> {
  const { hour, next, minute } = await hourLabels(page, instant, timeZone);
  const [blockBox, hourBox, nextBox] = await Promise.all(
    [block, hour, next].map(async (locator) => {
      const box = await locator.boundingBox();
      if (!box) throw new Error(`not on the page: ${String(locator)}`);
      return box;
    }),
  );
  const hourHeight = (nextBox?.y ?? 0) - (hourBox?.y ?? 0);
  return {
    top: blockBox?.y ?? 0,
    expected: (hourBox?.y ?? 0) + (minute / 60) * hourHeight,
    hourHeight,
  };
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
