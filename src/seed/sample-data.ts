/** Deterministic sample data for the demo seed and the benchmark generator (no real people). */

/** mulberry32: a tiny seeded PRNG, so the same seed gives the same practice every time. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

export const firstNames = [
  'Anna',
  'Ben',
  'Clara',
  'David',
  'Eva',
  'Felix',
  'Greta',
  'Hugo',
  'Ida',
  'Jonas',
  'Karin',
  'Leo',
  'Maria',
  'Nils',
  'Olga',
  'Paul',
  'Rosa',
  'Samuel',
  'Tara',
  'Umar',
  'Vera',
  'Wiktor',
  'Xenia',
  'Yusuf',
  'Zofia',
  'Amir',
  'Beatriz',
  'Chen',
  'Dmitri',
  'Elif',
  'Fatima',
  'Giovanni',
  'Hana',
  'Ivan',
  'Julia',
  'Kenji',
  'Lena',
  'Mateo',
  'Noor',
  'Oskar',
  'Priya',
  'Quentin',
  'Rahul',
  'Sofia',
  'Tomasz',
  'Ursula',
  'Viktor',
  'Wanda',
  'Yara',
  'Zeynep',
] as const;

export const lastNames = [
  'Smith',
  'Johnson',
  'Kowalczyk',
  'Nowak',
  'Müller',
  'Schmidt',
  'Garcia',
  'Martinez',
  'Rossi',
  'Russo',
  'Dubois',
  'Lefebvre',
  'Jansen',
  'de Vries',
  'Andersson',
  'Nilsson',
  'Novák',
  'Horváth',
  'Popescu',
  'Ivanov',
  'Petrov',
  'Yilmaz',
  'Kaya',
  'Nguyen',
  'Tran',
  'Kim',
  'Lee',
  'Park',
  'Wang',
  'Li',
  'Zhang',
  'Sato',
  'Suzuki',
  'Tanaka',
  'Singh',
  'Patel',
  'Sharma',
  'Khan',
  'Ali',
  'Hassan',
  'Okafor',
  'Mensah',
  'Silva',
  'Santos',
  'Oliveira',
  'Pereira',
  "O'Brien",
  'Murphy',
  'Walsh',
  'Campbell',
  'Fischer',
  'Weber',
  'Wagner',
  'Becker',
  'Hoffmann',
  'Lewandowski',
  'Wiśniewski',
  'Wójcik',
  'Kamiński',
  'Zieliński',
  'Szymański',
  'Dąbrowski',
  'Kozłowski',
  'Mazur',
  'Krawczyk',
  'Piotrowski',
  'Grabowski',
  'Pawlak',
  'Michalski',
  'Król',
] as const;

export const groups = [
  'general',
  'cardiology',
  'diabetes',
  'paediatrics',
  'oncology',
  'prenatal',
] as const;

export const allergens = [
  'penicillin',
  'latex',
  'peanuts',
  'sulfa',
  'aspirin',
  'shellfish',
  'codeine',
] as const;

export const complaints = [
  'persistent cough',
  'chest pain on exertion',
  'headache',
  'lower back pain',
  'fatigue',
  'skin rash',
  'shortness of breath',
  'routine check-up',
  'joint pain',
  'abdominal pain',
] as const;

export const medications = [
  ['Amoxicillin 500 mg', '1 capsule', '3 times daily'],
  ['Ibuprofen 400 mg', '1 tablet', 'every 8 hours as needed'],
  ['Metformin 850 mg', '1 tablet', 'twice daily with meals'],
  ['Atorvastatin 20 mg', '1 tablet', 'once daily at night'],
  ['Lisinopril 10 mg', '1 tablet', 'once daily'],
  ['Salbutamol 100 mcg inhaler', '2 puffs', 'as needed'],
  ['Omeprazole 20 mg', '1 capsule', 'once daily before breakfast'],
] as const;

export function phoneNumber(random: () => number): string {
  return `+48 ${String(500 + Math.floor(random() * 300))} ${String(Math.floor(random() * 1000)).padStart(3, '0')} ${String(Math.floor(random() * 1000)).padStart(3, '0')}`;
}

export function birthDate(random: () => number): string {
  const year = 1935 + Math.floor(random() * 85);
  const month = 1 + Math.floor(random() * 12);
  const day = 1 + Math.floor(random() * 28);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
