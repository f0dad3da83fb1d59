import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import type { Appointment } from './appointments';
import { dayIn } from './dates';
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
 * The clinic's time zone (CLINIC_TIMEZONE), which decides what "today" is. The API has no
 * endpoint for it as such: availability answers carry it as `time_zone` for any staff role
 * (GET /admin/stats too, for admins only), so it is read from one doctor's availability. With no
 * doctor to ask, the browser's zone stands in (`known: false`, and the screen says so).
 */
export function useClinicTimeZone(doctors: Doctor[] | undefined) {
  const first = doctors?.[0]?.id;
  return useQuery({
    queryKey: ['clinic-time-zone', first ?? null],
    enabled: doctors !== undefined,
    staleTime: Infinity,
    queryFn: async (): Promise<{ zone: string; known: boolean }> => {
      if (!first) return { zone: browserZone, known: false };
      const answer = await api.GET('/api/v1/doctors/{id}/availability', {
        params: { path: { id: first }, query: { date: dayIn(browserZone) } },
      });
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
