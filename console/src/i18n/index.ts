import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import { de } from './de';
import { en } from './en';
import { pickLanguage } from './language';

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: { translation: typeof en };
  }
}

/** Starts i18next in the browser's language (English for en-US and anything we lack). */
export async function startI18n(preferred: readonly string[]): Promise<typeof i18next> {
  const lng = pickLanguage(preferred);
  await i18next.use(initReactI18next).init({
    lng,
    fallbackLng: 'en',
    resources: { en: { translation: en }, de: { translation: de } },
    // React escapes what it renders.
    interpolation: { escapeValue: false },
  });
  document.documentElement.lang = lng;
  return i18next;
}
