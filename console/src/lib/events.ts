import { fetchEventSource } from '@microsoft/fetch-event-source';
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { session } from '../api/client';
import { mergeAppointment, type Appointment } from './appointments';
import { dayIn } from './dates';
import type { ClinicCalendar } from './calendar';

const EVENTS_PATH = '/api/v1/appointments/events';
const RETRY_MS = 2_000;

/** Query keys of a day's appointments: ['appointments', 'day', day] (day on the clinic's clock). */
export function dayKey(day: string): readonly unknown[] {
  return ['appointments', 'day', day];
}

/** The query key of the clinic calendar (`useClinicCalendar`), whose zone places events. */
export const clinicCalendarKey = ['clinic-calendar'] as const;

/**
 * Applies one changed appointment to every cached day list, and marks other lists stale. Which
 * day it belongs to is read on the clinic's clock; before the clinic calendar has arrived that is
 * unknown, and the day lists are fetched again instead.
 */
export function applyAppointmentEvent(client: QueryClient, changed: Appointment): void {
  const timeZone = client.getQueryData<ClinicCalendar>(clinicCalendarKey)?.zone;
  if (timeZone === undefined) {
    void client.invalidateQueries({ queryKey: ['appointments'] });
  } else {
    const day = dayIn(timeZone, new Date(changed.starts_at));
    for (const [key, list] of client.getQueriesData<Appointment[]>({
      queryKey: ['appointments', 'day'],
    })) {
      if (!list) continue;
      client.setQueryData(key, mergeAppointment(list, changed, key[2] === day));
    }
  }
  void client.invalidateQueries({
    predicate: (query) =>
      (query.queryKey[0] === 'appointments' && query.queryKey[1] !== 'day') ||
      query.queryKey[0] === 'availability' ||
      query.queryKey[0] === 'patient-appointments',
  });
}

class Retry extends Error {}

/**
 * Keeps the appointment event stream open while signed in and applies each change to the cached
 * day views, so a new booking appears without a reload. EventSource cannot send the bearer
 * token the API wants, so this streams over fetch; the token is read on every (re)connect, a
 * 401 refreshes the session first, and `Last-Event-ID` resumes after a dropped connection.
 * Returns whether the stream is open.
 */
export function useAppointmentEvents(enabled: boolean): boolean {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (!enabled) return undefined;
    const controller = new AbortController();
    void fetchEventSource(EVENTS_PATH, {
      signal: controller.signal,
      openWhenHidden: true,
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        const token = session.accessToken();
        if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
        return globalThis.fetch(input, { ...init, headers });
      },
      async onopen(response) {
        const type = response.headers.get('content-type') ?? '';
        if (response.ok && type.startsWith('text/event-stream')) {
          setOpen(true);
          // Whatever changed before the stream was open: fetch the lists once more.
          void client.invalidateQueries({ queryKey: ['appointments'] });
          return;
        }
        if (response.status === 401) await session.refresh();
        throw new Retry(`event stream answered ${response.status}`);
      },
      onmessage(message) {
        if (!message.event.startsWith('appointment.') || message.data === '') return;
        try {
          applyAppointmentEvent(client, JSON.parse(message.data) as Appointment);
        } catch {
          void client.invalidateQueries({ queryKey: ['appointments'] });
        }
      },
      onclose() {
        // The server ended the stream (restart, revoked session check): reconnect.
        setOpen(false);
        throw new Retry('event stream closed');
      },
      onerror() {
        setOpen(false);
        if (controller.signal.aborted || session.getState().status !== 'signed-in') {
          throw new Error('stopped');
        }
        return RETRY_MS;
      },
    }).catch(() => {
      setOpen(false);
    });
    return () => {
      controller.abort();
      setOpen(false);
    };
  }, [client, enabled]);
  return open;
}
