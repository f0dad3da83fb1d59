/** The languages the console is translated into; the first is the fallback. */
export const languages = ['en', 'de'] as const;
export type Language = (typeof languages)[number];

/**
 * The console follows the browser: the first of the user's preferred languages (in order) that
 * we have, by its primary subtag (`de-AT` -> German, `en-US` -> English); English otherwise.
 */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const primary = tag.trim().toLowerCase().split(/[-_]/)[0];
    const match = languages.find((language) => language === primary);
    if (match) return match;
  }
  return 'en';
}
