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

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * The clinic's time zone (CLINIC_TIMEZONE), which decides what "today" is, from
 * GET /clinic/calendar. Should it fail, the browser's zone stands in (`known: false`, and the
 * screen says so).
 */
export function useClinicTimeZone() {
  return useQuery({
    queryKey: ['clinic-calendar'],
    staleTime: Infinity,
    queryFn: async (): Promise<{ zone: string; known: boolean }> => {
      const answer = await api.GET('/api/v1/clinic/calendar');
      return answer.data
        ? { zone: answer.data.time_zone, known: true }
        : { zone: browserZone, known: false };
    },
  });
}

/** A day's appointments in the clinic zone, all pages (the event stream keeps it current). */
export function useDayAppointments(day: string, timeZone: string | undefined) {
  return useQuery({
    queryKey: dayKey(day, timeZone ?? ''),
    enabled: timeZone !== undefined,
    queryFn: async (): Promise<Appointment[]> => {
      const items: Appointment[] = [];
      let cursor: string | undefined;
      do {
        const page = dataOrThrow(
          await api.GET('/api/v1/appointments', {
            params: { query: { date: day, limit: 100, ...(cursor ? { cursor } : {}) } },
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
