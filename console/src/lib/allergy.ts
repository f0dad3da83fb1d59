/**
 * The recorded allergies a medication name plainly names, for the warning shown before saving
 * (`amoxicillin` against `penicillin` is the server's to find: its 201 carries the warnings it
 * knows, shown after saving). Case-insensitive; either name inside the other.
 */
export function allergyHits(medication: string, allergies: readonly string[]): string[] {
  const drug = medication.trim().toLowerCase();
  if (drug.length < 3) return [];
  return allergies.filter((allergen) => {
    const name = allergen.trim().toLowerCase();
    return name.length >= 3 && (drug.includes(name) || name.includes(drug));
  });
}
