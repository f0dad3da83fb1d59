import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import { parseClock } from './dates';
import { clinicCalendarKey } from './events';

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The clinic's calendar as the console uses it (GET /clinic/calendar). */
export interface ClinicCalendar {
  /** CLINIC_TIMEZONE: the zone of "today", of `date=` filters and of every time shown. */
  zone: string;
  /** false: the calendar could not be read and the browser's zone and a usual day stand in. */
  known: boolean;
  /** The working day on the clinic's clock, in minutes after midnight. */
  workdayStart: number;
  workdayEnd: number;
  slotStepMinutes: number;
  /** ISO weekdays (1 = Monday) on which bookings are taken. */
  workingDays: number[];
}

/** What stands in when the calendar cannot be read (said on screen: `known: false`). */
const fallbackCalendar: ClinicCalendar = {
  zone: browserZone,
  known: false,
  workdayStart: 8 * 60,
  workdayEnd: 18 * 60,
  slotStepMinutes: 15,
  workingDays: [1, 2, 3, 4, 5],
};

/**
 * The clinic's calendar (GET /clinic/calendar): its time zone, which decides what "today" is, and
 * its working day and slot step, which the day view draws. Should it fail, the browser's zone and
 * 08:00-18:00 stand in (`known: false`, and the screen says so). Read once per session: the
 * shell asks for it at sign-in so that the day view need not wait for it.
 */
export function useClinicCalendar(enabled = true) {
  return useQuery({
    queryKey: clinicCalendarKey,
    staleTime: Infinity,
    enabled,
    queryFn: async (): Promise<ClinicCalendar> => {
      const answer = await api.GET('/api/v1/clinic/calendar');
      if (!answer.data) return fallbackCalendar;
      const start = parseClock(answer.data.workday_start);
      const end = parseClock(answer.data.workday_end);
      return {
        zone: answer.data.time_zone,
        known: true,
        workdayStart: start ?? fallbackCalendar.workdayStart,
        workdayEnd: end ?? fallbackCalendar.workdayEnd,
        slotStepMinutes: answer.data.slot_step_minutes,
        workingDays: answer.data.working_days,
      };
    },
  });
}
