import type { PrescriptionWarning } from '../../db/schema/prescriptions.js';

/**
 * A small offline table of drug classes with well-known cross-reactivity, so an allergy recorded
 * as a class ("penicillin") also catches its members ("amoxicillin") and a member catches its
 * class siblings. It is a safety net for obvious cases, not a clinical drug-interaction database.
 */
const drugClasses: Record<string, { aliases: string[]; members: string[] }> = {
  penicillin: {
    aliases: ['penicillin', 'penicillins'],
    members: [
      'amoxicillin',
      'ampicillin',
      'piperacillin',
      'dicloxacillin',
      'flucloxacillin',
      'cloxacillin',
      'oxacillin',
      'nafcillin',
      'benzylpenicillin',
      'phenoxymethylpenicillin',
      'co-amoxiclav',
      'augmentin',
      'penicillin',
    ],
  },
  cephalosporin: {
    aliases: ['cephalosporin', 'cephalosporins'],
    members: [
      'cefalexin',
      'cephalexin',
      'cefuroxime',
      'ceftriaxone',
      'cefazolin',
      'cefixime',
      'cefdinir',
      'cefepime',
    ],
  },
  sulfonamide: {
    aliases: ['sulfa', 'sulfonamide', 'sulfonamides', 'sulpha', 'sulfa drugs'],
    members: [
      'sulfamethoxazole',
      'sulfasalazine',
      'sulfadiazine',
      'co-trimoxazole',
      'bactrim',
      'septra',
    ],
  },
  nsaid: {
    aliases: ['nsaid', 'nsaids'],
    members: [
      'ibuprofen',
      'naproxen',
      'diclofenac',
      'aspirin',
      'ketorolac',
      'indomethacin',
      'meloxicam',
      'celecoxib',
      'ketoprofen',
    ],
  },
  macrolide: {
    aliases: ['macrolide', 'macrolides'],
    members: ['erythromycin', 'azithromycin', 'clarithromycin'],
  },
  tetracycline: {
    aliases: ['tetracyclines'],
    members: ['tetracycline', 'doxycycline', 'minocycline'],
  },
  fluoroquinolone: {
    aliases: ['fluoroquinolone', 'fluoroquinolones', 'quinolone', 'quinolones'],
    members: ['ciprofloxacin', 'levofloxacin', 'moxifloxacin', 'ofloxacin', 'norfloxacin'],
  },
  opioid: {
    aliases: ['opioid', 'opioids', 'opiate', 'opiates'],
    members: [
      'codeine',
      'morphine',
      'oxycodone',
      'hydrocodone',
      'tramadol',
      'fentanyl',
      'hydromorphone',
    ],
  },
};

function normalize(value: string): string {
  return value.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Whole-word containment, so "sulfa" does not match inside an unrelated longer word. */
function mentions(text: string, term: string): boolean {
  const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^a-z])${escaped}([^a-z]|$)`).test(text);
}

/** Classes a drug or an allergy entry belongs to ("sulfa allergy" names the sulfonamides). */
function classesOf(term: string): string[] {
  return Object.entries(drugClasses)
    .filter(([, cls]) => [...cls.aliases, ...cls.members].some((name) => mentions(term, name)))
    .map(([name]) => name);
}

/** Warnings for every recorded allergen the medication matches directly or by drug class. */
export function allergyWarnings(medication: string, allergies: string[]): PrescriptionWarning[] {
  const drug = normalize(medication);
  const drugClassNames = classesOf(drug);
  const warnings: PrescriptionWarning[] = [];
  for (const raw of allergies) {
    const allergen = normalize(raw);
    if (allergen === '') continue;
    if (mentions(drug, allergen) || mentions(allergen, drug)) {
      warnings.push({
        code: 'allergy_match',
        allergen: raw,
        message: `The patient is allergic to ${raw}, which this medication names`,
      });
      continue;
    }
    const shared = classesOf(allergen).find((name) => drugClassNames.includes(name));
    if (shared !== undefined) {
      warnings.push({
        code: 'allergy_match',
        allergen: raw,
        message: `The patient is allergic to ${raw}; ${medication} belongs to the same class (${shared})`,
      });
    }
  }
  return warnings;
}
