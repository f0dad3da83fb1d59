import { describe, expect, it } from 'vitest';
import { pickLanguage } from './language';

describe('pickLanguage', () => {
  it('follows the first preferred language the console has', () => {
    expect(pickLanguage(['de-DE', 'en-US'])).toBe('de');
    expect(pickLanguage(['fr-FR', 'de-AT', 'en'])).toBe('de');
    expect(pickLanguage(['en-US', 'de'])).toBe('en');
  });

  it('falls back to English for languages it does not have, or none', () => {
    expect(pickLanguage(['fr', 'it-IT'])).toBe('en');
    expect(pickLanguage([])).toBe('en');
  });

  it('reads tags case-insensitively and with underscores', () => {
    expect(pickLanguage(['DE_ch'])).toBe('de');
  });
});
