import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import { allergyHits } from './allergy';
import { dataOrThrow } from './problem';
import { useDebounced } from './useDebounced';

/** How long the medication must rest before the server is asked (one call per pause, not per key). */
export const ALLERGY_CHECK_DELAY_MS = 300;

/**
 * The recorded allergies a medication would be warned of, before it is saved: the server's own
 * check (GET /patients/{id}/allergy-check, the same class matching a saved prescription gets, so
 * "Amoxicillin" warns of a penicillin allergy), asked once typing pauses. If that call fails the
 * warning falls back to the names the medication plainly spells out (`offline: true`), so a lost
 * connection weakens the warning instead of silencing it.
 */
export function useAllergyCheck(patientId: string, medication: string, allergies: string[]) {
  const typed = medication.trim();
  const settled = useDebounced(typed, ALLERGY_CHECK_DELAY_MS);
  const check = useQuery({
    queryKey: ['allergy-check', patientId, settled],
    enabled: settled !== '',
    // The previous answer stays up while the next is on its way: no flicker of the alert per key.
    placeholderData: keepPreviousData,
    staleTime: 60_000,
    retry: false,
    queryFn: async () =>
      dataOrThrow(
        await api.GET('/api/v1/patients/{id}/allergy-check', {
          params: { path: { id: patientId }, query: { medication: settled } },
        }),
      ).warnings,
  });
  if (typed === '' || settled === '') return { allergens: [], offline: false };
  if (check.isError) return { allergens: allergyHits(settled, allergies), offline: true };
  return { allergens: (check.data ?? []).map((warning) => warning.allergen), offline: false };
}
