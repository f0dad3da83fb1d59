import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type SubmitEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { useUser } from '../../auth/useSession';
import { ErrorMessage, FieldError, Loading } from '../../components/Feedback';
import { BookingFailure, SlotChoices } from '../../components/SlotPicker';
import type { Appointment } from '../../lib/appointments';
import { BookingError, bookingError, fetchAppointment, useAvailability } from '../../lib/booking';
import { dateTime, firstDayToOffer, isDay } from '../../lib/dates';
import { applyAppointmentEvent } from '../../lib/events';
import { canChangeAppointment } from '../../lib/permissions';
import { dataOrThrow } from '../../lib/problem';
import { useClinicCalendar } from '../../lib/queries';

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The patient's appointments; scheduled and confirmed ones can be moved or cancelled. */
export function PatientAppointments({ patientId }: { patientId: string }) {
  const { t } = useTranslation();
  const user = useUser();
  const zone = useClinicCalendar().data?.zone ?? browserZone;
  const list = useQuery({
    queryKey: ['patient-appointments', patientId],
    queryFn: async () =>
      dataOrThrow(
        await api.GET('/api/v1/patients/{id}/appointments', {
          params: { path: { id: patientId } },
        }),
      ).items,
  });
  const locale = document.documentElement.lang || 'en';
  return (
    <section id="appointments" aria-labelledby="appointments-title" className="panel">
      <h2 id="appointments-title">{t('record.appointments')}</h2>
      <ErrorMessage error={list.error} />
      {list.isPending && <Loading />}
      {list.data?.length === 0 && <p>{t('record.noAppointmentsYet')}</p>}
      {list.data && list.data.length > 0 && (
        <ul className="plain">
          {list.data.map((item) => {
            const when = dateTime(item.starts_at, zone, locale);
            return (
              <li key={item.id} className={`appt status-${item.status}`}>
                {when} <span className="badge">{t(`status.${item.status}`)}</span>
                {item.reason && ` · ${item.reason}`}
                {item.status === 'cancelled' && item.cancel_reason && (
                  <> · {t('record.cancelledBecause', { reason: item.cancel_reason })}</>
                )}
                {canChangeAppointment(user, item) && (
                  <AppointmentActions item={item} when={when} zone={zone} />
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/** "Reschedule" and "Cancel", each opening its own small form under the appointment. */
function AppointmentActions({
  item,
  when,
  zone,
}: {
  item: Appointment;
  when: string;
  zone: string;
}) {
  const { t } = useTranslation();
  const [open, setOpen] = useState<'reschedule' | 'cancel'>();
  const toggle = (which: 'reschedule' | 'cancel') => {
    setOpen((current) => (current === which ? undefined : which));
  };
  return (
    <>
      {' '}
      <span className="actions">
        <button
          type="button"
          aria-expanded={open === 'reschedule'}
          aria-label={t('record.rescheduleFor', { when })}
          onClick={() => {
            toggle('reschedule');
          }}
        >
          {t('record.reschedule')}
        </button>{' '}
        <button
          type="button"
          aria-expanded={open === 'cancel'}
          aria-label={t('record.cancelFor', { when })}
          onClick={() => {
            toggle('cancel');
          }}
        >
          {t('transitions.cancel')}
        </button>
      </span>
      {open === 'reschedule' && (
        <RescheduleForm
          item={item}
          when={when}
          zone={zone}
          onClose={() => {
            setOpen(undefined);
          }}
        />
      )}
      {open === 'cancel' && (
        <CancelForm
          item={item}
          when={when}
          onClose={() => {
            setOpen(undefined);
          }}
        />
      )}
    </>
  );
}

/**
 * Moves the appointment to a free slot of its doctor (same duration), with If-Match: a 412 means
 * it changed meanwhile (the latest version is read again, pick again); a 409 names who holds the
 * slot, as on Book.
 */
function RescheduleForm({
  item,
  when,
  zone,
  onClose,
}: {
  item: Appointment;
  when: string;
  zone: string;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [dayText, setDayText] = useState(() => firstDayToOffer(item.starts_at, zone));
  const [slot, setSlot] = useState<string>();
  const [slotError, setSlotError] = useState<string>();
  const day = isDay(dayText) ? dayText : '';
  const slots = useAvailability(item.doctor_id, day, item.duration_minutes);
  const current = useQuery({
    queryKey: ['appointment', item.id],
    queryFn: () => fetchAppointment(item.id),
    staleTime: 0,
  });
  const move = useMutation({
    mutationFn: async (startsAt: string) => {
      const etag = current.data?.etag;
      const answer = await api.PATCH('/api/v1/appointments/{id}', {
        params: { path: { id: item.id }, header: etag ? { 'if-match': etag } : {} },
        body: { starts_at: startsAt },
      });
      if (answer.data) return answer.data;
      throw await bookingError(answer);
    },
    onSuccess: (changed) => {
      applyAppointmentEvent(client, changed);
      client.removeQueries({ queryKey: ['appointment', item.id] });
      onClose();
    },
    onError: (error) => {
      setSlot(undefined);
      void slots.refetch();
      if (error instanceof BookingError && error.status === 412) void current.refetch();
    },
  });
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!slot) {
      setSlotError(t('book.needSlot'));
      return;
    }
    setSlotError(undefined);
    move.mutate(slot);
  };
  const stale = move.error instanceof BookingError && move.error.status === 412;
  const dayId = `reschedule-day-${item.id}`;
  return (
    <form
      className="stack reschedule-form"
      aria-label={t('record.rescheduleFor', { when })}
      onSubmit={submit}
      noValidate
    >
      <div className="field">
        <label htmlFor={dayId}>{t('record.newDay')}</label>
        <input
          id={dayId}
          type="date"
          value={dayText}
          onChange={(event) => {
            setDayText(event.target.value);
            setSlot(undefined);
          }}
        />
      </div>
      <SlotChoices
        name={`reschedule-slot-${item.id}`}
        slots={slots}
        chosen={slot}
        onChoose={(startsAt) => {
          setSlot(startsAt);
          setSlotError(undefined);
        }}
        ready
        error={slotError}
      />
      <div className="actions">
        <button type="submit" className="primary" disabled={move.isPending || current.isPending}>
          {move.isPending ? t('record.moving') : t('record.move')}
        </button>{' '}
        <button type="button" onClick={onClose}>
          {t('app.close')}
        </button>
      </div>
      {stale ? (
        <p role="alert" className="warning">
          {t('record.appointmentStale')}
        </p>
      ) : (
        <BookingFailure error={move.error} zone={zone} />
      )}
      <ErrorMessage error={current.error} />
    </form>
  );
}

/** Cancels with the reason the API requires (POST /appointments/{id}/cancel). */
function CancelForm({
  item,
  when,
  onClose,
}: {
  item: Appointment;
  when: string;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const cancel = useMutation({
    mutationFn: async () =>
      dataOrThrow(
        await api.POST('/api/v1/appointments/{id}/cancel', {
          params: { path: { id: item.id } },
          body: { reason: reason.trim() },
        }),
      ),
    onSuccess: (changed) => {
      applyAppointmentEvent(client, changed);
      onClose();
    },
  });
  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (reason.trim() === '') {
      setMissing(true);
      return;
    }
    setMissing(false);
    cancel.mutate();
  };
  const id = `cancel-reason-${item.id}`;
  return (
    <form
      className="inline-form"
      aria-label={t('record.cancelFor', { when })}
      onSubmit={submit}
      noValidate
    >
      <div className="field">
        <label htmlFor={id}>{t('transitions.cancelReason')}</label>
        <input
          id={id}
          value={reason}
          required
          aria-invalid={missing ? true : undefined}
          aria-describedby={missing ? `${id}-error` : undefined}
          onChange={(event) => {
            setReason(event.target.value);
          }}
        />
        <FieldError id={`${id}-error`} message={missing ? t('signIn.required') : undefined} />
      </div>
      <div className="actions">
        <button type="submit" disabled={cancel.isPending}>
          {t('transitions.cancelConfirm')}
        </button>{' '}
        <button type="button" onClick={onClose}>
          {t('record.keepAppointment')}
        </button>
      </div>
      <ErrorMessage error={cancel.error} />
    </form>
  );
}
