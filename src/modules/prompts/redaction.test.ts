import { describe, expect, it } from 'vitest';
import { identifierCandidates, redact, restore, type KnownIdentifiers } from './redaction.js';

const none: KnownIdentifiers = { nameWords: new Set(), surnameWords: new Set(), mrns: new Set() };
const known = (
  names: string[],
  mrns: string[] = [],
  surnames: string[] = [],
): KnownIdentifiers => ({
  nameWords: new Set([...names, ...surnames]),
  surnameWords: new Set(surnames),
  mrns: new Set(mrns),
});

describe('redact: patterns (any value, known patient or not)', () => {
  it.each([
    ['jane.roe+clinic@example.org', 'EMAIL'],
    ['+44 20 7946 0958', 'PHONE'],
    ['+1 (555) 123-4567', 'PHONE'],
    ['(555) 123-4567', 'PHONE'],
    ['555-123-4567', 'PHONE'],
    ['555.123.4567', 'PHONE'],
    ['020 7946 0958', 'PHONE'],
    ['06-12345678', 'PHONE'],
    ['5551234567', 'PHONE'],
    ['MRN00100001', 'MRN'],
    ['MRN: 42424', 'MRN'],
    ['1980-03-04', 'DATE'],
    ['04/03/1980', 'DATE'],
    ['4.3.1980', 'DATE'],
    ['12/31/80', 'DATE'],
    ['4 March 1980', 'DATE'],
    ['4th of Mar 1980', 'DATE'],
    ['March 4, 1980', 'DATE'],
    ['Sept. 14 2001', 'DATE'],
  ])('%s -> [%s_1]', (value, kind) => {
    const result = redact(`Details: ${value}. Thanks`, none);
    expect(result.text).toBe(`Details: [${kind}_1]. Thanks`);
    expect(result.placeholders).toEqual({ [`[${kind}_1]`]: value });
  });

  it('labels a date that follows a birth cue as DOB', () => {
    expect(redact('born 1980-03-04, seen 2024-05-01T10:00', none).text).toBe(
      'born [DOB_1], seen [DATE_1]T10:00',
    );
    expect(redact('DOB: 04/03/1980', none).text).toBe('DOB: [DOB_1]');
  });

  it('leaves doses, readings, versions and years alone', () => {
    const text = 'BP 120/80, 500 mg twice daily, eGFR 45, in 2019, ratio 1.5, 13/45/2020, v1.2.3';
    expect(redact(text, none)).toEqual({ text, placeholders: {} });
  });

  it('gives one placeholder to one value however it is spelled', () => {
    const result = redact('Call 555-123-4567 or (555) 123 4567; mail A@X.org or a@x.org', none);
    expect(result.text).toBe('Call [PHONE_1] or [PHONE_1]; mail [EMAIL_1] or [EMAIL_1]');
  });

  it('does not reuse a placeholder the user typed', () => {
    const result = redact('Compare [EMAIL_1] with bob@example.com', none);
    expect(result.text).toBe('Compare [EMAIL_1] with [EMAIL_2]');
    expect(restore(result.text, result.placeholders)).toBe(
      'Compare [EMAIL_1] with bob@example.com',
    );
  });
});

describe('redact: known patients', () => {
  it('replaces full names in any case and capitalised lone names', () => {
    const result = redact(
      'Jane Roe (roe, jane) saw jane roe. Roe’s labs; JANE asked.',
      known(['jane', 'roe']),
    );
    expect(result.text).toBe(
      '[PATIENT_1] ([PATIENT_2]) saw [PATIENT_1]. [PATIENT_3]’s labs; [PATIENT_4] asked.',
    );
    expect(result.placeholders['[PATIENT_1]']).toBe('Jane Roe');
  });

  it('keeps a lone lower-case word that happens to be a name', () => {
    expect(redact('she will call. May Will?', known(['will', 'may'])).text).toBe(
      'she will call. [PATIENT_1]?',
    );
  });

  it('replaces a lone lower-case surname unless it is an everyday word', () => {
    const result = redact(
      'summarise the labs of quartermaine; ask brown. will she come?',
      known(['will'], [], ['quartermaine', 'brown']),
    );
    expect(result.text).toBe('summarise the labs of [PATIENT_1]; ask brown. will she come?');
  });

  it('covers a hyphenated name when one part is a patient’s', () => {
    expect(redact('Mrs Smith-Jones', known(['jones'])).text).toBe('Mrs [PATIENT_1]');
  });

  it('replaces known MRNs in whatever format, and bare MRN digits', () => {
    const result = redact('chart AB-77123 and 00100001', known([], ['AB-77123', 'MRN00100001']));
    expect(result.text).toBe('chart [MRN_1] and [MRN_2]');
  });

  it('merges overlapping finds so nothing is left half in the clear', () => {
    const result = redact('write to jane.roe@example.org', known(['jane', 'roe']));
    expect(result.text).toBe('write to [EMAIL_1]');
  });
});

describe('identifierCandidates', () => {
  it('proposes words, short phrases and codes; nothing else', () => {
    const { names, mrns } = identifierCandidates(
      'Mary Ann van Dyke, O’Brien-Smith; MRN00100001 x 12345678',
    );
    expect(names).toEqual(
      expect.arrayContaining([
        'mary',
        'mary ann',
        'mary ann van',
        'van dyke',
        'o’brien-smith',
        'smith',
      ]),
    );
    expect(names).not.toContain('dyke o’brien-smith');
    expect(names).not.toContain('x');
    expect(mrns).toEqual(expect.arrayContaining(['MRN00100001', '12345678', 'MRN12345678']));
  });
});

describe('restore', () => {
  it('puts originals back and leaves unknown placeholders', () => {
    expect(
      restore('[PATIENT_1] and [PATIENT_9] ([MRN_1])', {
        '[PATIENT_1]': 'Jane Roe',
        '[MRN_1]': 'MRN00100001',
      }),
    ).toBe('Jane Roe and [PATIENT_9] (MRN00100001)');
  });

  it('round-trips', () => {
    const text = 'Jane Roe, born 4 March 1980, +1 555 123 4567, MRN00100001, jr@x.io';
    const result = redact(text, known(['jane', 'roe'], ['MRN00100001']));
    expect(result.text).not.toMatch(/Jane|Roe|1980|555|00100001|jr@/);
    expect(restore(result.text, result.placeholders)).toBe(text);
  });
});
