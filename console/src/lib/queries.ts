import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import type { Appointment } from './appointments';
import { dayKey } from './events';
import { dataOrThrow } from './problem';

export interface Doctor {
  id: string;
  full_name: string | null;
}

/** Every active doctor (GET /doctors, all pages). */
export function useDoctors() {
  return useQuery({
    queryKey: ['doctors'],
    staleTime: 5 * 60_000,
    queryFn: async (): Promise<Doctor[]> => {
      const doctors: Doctor[] = [];
      let cursor: string | undefined;
      do {
        const page = dataOrThrow(
          await api.GET('/api/v1/doctors', {
            params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } },
          }),
        );
        doctors.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return doctors;
    },
  });
}

export { useClinicCalendar, type ClinicCalendar } from './calendar';

/**
 * A day's appointments, all pages (the event stream keeps it current). `day` is a date on the
 * clinic's clock, which is how the API reads `date=`: so the fetch needs no time zone and can
 * start before the clinic calendar has arrived. Disabled while `day` is undefined.
 */
export function useDayAppointments(day: string | undefined) {
  return useQuery({
    queryKey: dayKey(day ?? ''),
    enabled: day !== undefined,
    queryFn: async (): Promise<Appointment[]> => {
      const items: Appointment[] = [];
      let cursor: string | undefined;
      do {
        const page = dataOrThrow(
          await api.GET('/api/v1/appointments', {
            params: {
              query: { date: day as string, limit: 100, ...(cursor ? { cursor } : {}) },
            },
          }),
        );
        items.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return items;
    },
  });
}

export function doctorName(doctor: Doctor | undefined, fallback: string): string {
  return doctor?.full_name?.trim() ? doctor.full_name : fallback;
}

/** The signed-in user's own profile (GET /users/me). */
export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async () => dataOrThrow(await api.GET('/api/v1/users/me')),
  });
}
