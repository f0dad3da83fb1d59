import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { Schemas } from '@medcore/client';
import { api } from '../api/client';
import { dataOrThrow } from './problem';

export type Patient = Schemas['Patient'];

/** Typo-tolerant patient search (GET /patients?q=); without a query, the first page by name. */
export function usePatientSearch(q: string, limit = 20) {
  const query = q.trim();
  return useQuery({
    queryKey: ['patients', 'search', query, limit],
    placeholderData: keepPreviousData,
    queryFn: async () =>
      dataOrThrow(
        await api.GET('/api/v1/patients', {
          params: { query: query ? { q: query, limit } : { limit, sort: 'name' } },
        }),
      ).items,
  });
}

/** "Müller, Anna" */
export function patientName(patient: { first_name: string; last_name: string }): string {
  return `${patient.last_name}, ${patient.first_name}`;
}
