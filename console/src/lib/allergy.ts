/**
 * The recorded allergies a medication name plainly names: the offline fallback of the warning
 * shown before saving (lib/allergy-check.ts), used only when the server's check cannot be asked.
 * It knows no drug classes (`amoxicillin` against `penicillin` is the server's to find).
 * Case-insensitive; either name inside the other.
 */
export function allergyHits(medication: string, allergies: readonly string[]): string[] {
  const drug = medication.trim().toLowerCase();
  if (drug.length < 3) return [];
  return allergies.filter((allergen) => {
    const name = allergen.trim().toLowerCase();
    return name.length >= 3 && (drug.includes(name) || name.includes(drug));
  });
}
