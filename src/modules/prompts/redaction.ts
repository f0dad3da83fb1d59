import { commonWords } from './common-words.js';

/**
 * Patient identifiers are replaced by placeholders (`[PATIENT_1]`, `[MRN_1]`, `[DOB_1]`,
 * `[DATE_1]`, `[PHONE_1]`, `[EMAIL_1]`) before a prompt leaves for the model endpoint; the map
 * lets a reader who may see patient demographics get the originals back in the answer.
 *
 * Pure functions: the caller looks up which words are patient names or MRNs (known identifiers)
 * from the candidates these functions propose, so the database is asked only about words that
 * occur in the text. Over-redaction is the safe failure, with one exception kept on purpose: a
 * lone lower-case first name, or an everyday word that is also a surname ("will", "may",
 * "brown"; common-words.ts), is left alone, or a single patient called May Will would blank
 * those words in every prompt of the practice. A lone lower-case surname is redacted.
 */

export type IdentifierKind = 'PATIENT' | 'MRN' | 'DOB' | 'DATE' | 'PHONE' | 'EMAIL';

export interface KnownIdentifiers {
  /** Lower-cased words of patients' first and last names found among the candidates. */
  nameWords: ReadonlySet<string>;
  /** Those of them that are (words of) a surname: redacted even alone and lower-case. */
  surnameWords: ReadonlySet<string>;
  /** Upper-cased MRNs of patients found among the candidates. */
  mrns: ReadonlySet<string>;
}

export interface Redaction {
  text: string;
  /** Placeholder -> the text it replaced (first spelling seen). */
  placeholders: Record<string, string>;
}

interface Span {
  start: number;
  end: number;
  kind: IdentifierKind;
}

const MONTHS =
  'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?';

// Full calendar dates only (a year alone is not an identifier). Numeric forms are checked for a
// plausible day and month afterwards; lookarounds rather than \b so "1980-03-04T10:00" matches.
const DATE = new RegExp(
  [
    String.raw`(?<![\d.])\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?![\d])`,
    String.raw`(?<![\d.])\d{1,2}[-/.]\d{1,2}[-/.]\d{4}(?![\d])`,
    String.raw`(?<![\d./-])\d{1,2}[/-]\d{1,2}[/-]\d{2}(?![\d/-])`,
    String.raw`\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:${MONTHS})\.?,?\s+\d{4}\b`,
    String.raw`\b(?:${MONTHS})\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b`,
  ].join('|'),
  'gi',
);

// A birth date is told apart from other dates by what precedes it; both are redacted anyway
// (HIPAA Safe Harbor treats every date tied to a person as an identifier).
const BIRTH_CUE = /(?:born|\bdob|d\.o\.b|birth)[^.\n]{0,15}$/i;

const PHONE = new RegExp(
  [
    // International: +44 20 7946 0958, +1 (555) 123-4567.
    String.raw`(?<![\w+])\+\d[\d\s().-]{5,20}\d`,
    // (555) 123-4567
    String.raw`(?<!\w)\(\d{2,4}\)\s?\d{3,4}[\s.-]?\d{3,4}(?!\d)`,
    // 555-123-4567, 555.123.4567, 555 123 4567
    String.raw`(?<![\w.-])\d{3}[\s.-]\d{3}[\s.-]\d{4}(?![\w-])`,
    // National numbers with a trunk 0: 020 7946 0958, 06-12345678, 0612 345 678
    String.raw`(?<![\w.-])0\d{1,4}(?:[\s.-]?\d{2,4}){1,4}(?![\w-])`,
    // Unformatted: 5551234567
    String.raw`(?<![\w.-])\d{10,15}(?![\w-])`,
  ].join('|'),
  'g',
);

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

// "MRN 00123", "MRN#123456", "mrn: 42424": any MRN-looking reference, known patient or not.
const MRN_REFERENCE = /\bMRN[\s:#-]*\d{3,}\b/gi;

// Words with inner apostrophes or hyphens (O'Brien, Smith-Jones).
const WORD = /[\p{L}\p{M}]+(?:['’-][\p{L}\p{M}]+)*/gu;
const POSSESSIVE = /['’]s$/i;
// Codes that may be an MRN in whatever format the practice imported: letters and digits.
const CODE = /(?<![\p{L}\p{N}])[\p{L}\p{N}][\p{L}\p{N}-]{2,30}(?![\p{L}\p{N}])/gu;

const PLACEHOLDER = /\[(?:PATIENT|MRN|DOB|DATE|PHONE|EMAIL)_\d+\]/g;

/** Three-part numeric date with a month 1..12 and a day 1..31 in either order. */
function plausibleDate(match: string): boolean {
  const parts = match.split(/[-/.]/).map(Number);
  if (parts.length !== 3 || parts.some((n) => Number.isNaN(n))) return true; // month-name form
  const [a = 0, b = 0, c = 0] = parts;
  const [x, y] = match.length >= 4 && /^\d{4}/.test(match) ? [b, c] : [a, b];
  const ok = (month: number, day: number) => month >= 1 && month <= 12 && day >= 1 && day <= 31;
  return ok(x, y) || ok(y, x);
}

function* matches(pattern: RegExp, text: string): Generator<RegExpExecArray> {
  const re = new RegExp(pattern.source, pattern.flags);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) yield m;
}

function patternSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of matches(EMAIL, text)) {
    spans.push({ start: m.index, end: m.index + m[0].length, kind: 'EMAIL' });
  }
  for (const m of matches(MRN_REFERENCE, text)) {
    spans.push({ start: m.index, end: m.index + m[0].length, kind: 'MRN' });
  }
  for (const m of matches(DATE, text)) {
    if (!plausibleDate(m[0])) continue;
    const cue = BIRTH_CUE.test(text.slice(Math.max(0, m.index - 30), m.index));
    spans.push({ start: m.index, end: m.index + m[0].length, kind: cue ? 'DOB' : 'DATE' });
  }
  for (const m of matches(PHONE, text)) {
    const digits = m[0].replace(/\D/g, '').length;
    if (digits < 7 || digits > 15) continue;
    spans.push({ start: m.index, end: m.index + m[0].length, kind: 'PHONE' });
  }
  return spans;
}

interface Word {
  start: number;
  end: number;
  /** Lower-cased, possessive dropped. */
  key: string;
  /** Hyphen parts of `key`, for "Smith-Jones" where only Jones is a patient. */
  parts: string[];
  capitalised: boolean;
}

function wordsOf(text: string): Word[] {
  const words: Word[] = [];
  for (const m of matches(WORD, text)) {
    const raw = m[0].replace(POSSESSIVE, '');
    const key = raw.toLowerCase();
    words.push({
      start: m.index,
      end: m.index + raw.length,
      key,
      parts: key.split('-'),
      capitalised: /^\p{Lu}/u.test(raw),
    });
  }
  return words;
}

/**
 * What to ask the database about: lower-cased words, and runs of two or three words (names
 * stored with a space, "Mary Ann", "van Dyke"); upper-cased letter-digit codes for MRNs (a bare
 * number is also tried with the default "MRN" prefix).
 */
export function identifierCandidates(text: string): { names: string[]; mrns: string[] } {
  const names = new Set<string>();
  const words = wordsOf(text).filter((w) => w.key.length >= 2);
  words.forEach((word, i) => {
    names.add(word.key);
    for (const part of word.parts) if (part.length >= 2) names.add(part);
    let phrase = word.key;
    for (let j = i + 1; j < Math.min(i + 3, words.length); j++) {
      const next = words[j];
      if (next === undefined || !/^[ \t]+$/.test(text.slice(words[j - 1]?.end, next.start))) break;
      phrase += ` ${next.key}`;
      names.add(phrase);
    }
  });
  const mrns = new Set<string>();
  for (const m of matches(CODE, text)) {
    if (!/\d/.test(m[0])) continue;
    const code = m[0].toUpperCase();
    mrns.add(code);
    if (/^\d{6,}$/.test(code)) mrns.add(`MRN${code}`);
  }
  return { names: [...names], mrns: [...mrns] };
}

// Between the words of one name: spaces, or a comma for "Roe, Jane".
const NAME_GAP = /^(?:[ \t]+|,[ \t]*)$/;

/**
 * Names of known patients: runs of name words (any case), a lone capitalised one, or a lone
 * lower-case surname that is not an everyday word.
 */
function nameSpans(text: string, known: KnownIdentifiers): Span[] {
  const isName = (w: Word) =>
    known.nameWords.has(w.key) || w.parts.some((p) => known.nameWords.has(p));
  const spans: Span[] = [];
  const words = wordsOf(text);
  for (let i = 0; i < words.length; i++) {
    const first = words[i];
    if (first === undefined || !isName(first)) continue;
    let last = first;
    let count = 1;
    for (let next = words[i + 1]; next !== undefined && isName(next); next = words[i + 1]) {
      if (!NAME_GAP.test(text.slice(last.end, next.start))) break;
      last = next;
      count++;
      i++;
    }
    const loneSurname = known.surnameWords.has(first.key) && !commonWords.has(first.key);
    if (count > 1 || first.capitalised || loneSurname) {
      spans.push({ start: first.start, end: last.end, kind: 'PATIENT' });
    }
  }
  return spans;
}

function mrnSpans(text: string, known: KnownIdentifiers): Span[] {
  const spans: Span[] = [];
  for (const m of matches(CODE, text)) {
    const code = m[0].toUpperCase();
    if (known.mrns.has(code) || known.mrns.has(`MRN${code}`)) {
      spans.push({ start: m.index, end: m.index + m[0].length, kind: 'MRN' });
    }
  }
  return spans;
}

/**
 * Overlapping detections are merged (the earlier, longer one names the kind), so nothing that
 * any detector flagged is left partly in the clear.
 */
function mergeSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Span[] = [];
  for (const span of sorted) {
    const previous = merged.at(-1);
    if (previous !== undefined && span.start < previous.end) {
      previous.end = Math.max(previous.end, span.end);
    } else {
      merged.push({ ...span });
    }
  }
  return merged;
}

/** The same identifier, however spelled, gets the same placeholder. */
function normalise(kind: IdentifierKind, value: string): string {
  switch (kind) {
    case 'PHONE':
      return value.replace(/[^\d+]/g, '');
    case 'MRN':
      return value.toUpperCase().replace(/[^A-Z0-9]/g, '');
    case 'PATIENT':
    case 'EMAIL':
    case 'DOB':
    case 'DATE':
      return value.toLowerCase().replace(/\s+/g, ' ');
  }
}

/** Replaces every identifier found (patterns, plus the known names and MRNs) by a placeholder. */
export function redact(text: string, known: KnownIdentifiers): Redaction {
  // Known MRNs first: on an exact tie (a bare MRN number that also looks like a phone number)
  // the stable sort in mergeSpans keeps the more specific kind.
  const spans = mergeSpans([
    ...mrnSpans(text, known),
    ...patternSpans(text),
    ...nameSpans(text, known),
  ]);
  const placeholders: Record<string, string> = {};
  const assigned = new Map<string, string>();
  const counters = new Map<IdentifierKind, number>();
  let out = '';
  let cursor = 0;
  for (const span of spans) {
    const original = text.slice(span.start, span.end);
    const key = `${span.kind}:${normalise(span.kind, original)}`;
    let placeholder = assigned.get(key);
    if (placeholder === undefined) {
      let n = counters.get(span.kind) ?? 0;
      // A placeholder the user typed themselves must not be "restored" into someone's name.
      do placeholder = `[${span.kind}_${++n}]`;
      while (text.includes(placeholder));
      counters.set(span.kind, n);
      assigned.set(key, placeholder);
      placeholders[placeholder] = original;
    }
    out += text.slice(cursor, span.start) + placeholder;
    cursor = span.end;
  }
  return { text: out + text.slice(cursor), placeholders };
}

/** Puts the originals back; placeholders the map does not know (made up by the model) stay. */
export function restore(text: string, placeholders: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (placeholder) =>
    Object.hasOwn(placeholders, placeholder)
      ? (placeholders[placeholder] ?? placeholder)
      : placeholder,
  );
}
