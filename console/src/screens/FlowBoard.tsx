import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api/client';
import { ErrorMessage, Loading } from '../components/Feedback';
import {
  boardStatuses,
  transitionsFrom,
  type Appointment,
  type Transition,
} from '../lib/appointments';
import { dayIn, timeOfDay } from '../lib/dates';
import { applyAppointmentEvent } from '../lib/events';
import { dataOrThrow } from '../lib/problem';
import { doctorName, useClinicCalendar, useDayAppointments, useDoctors } from '../lib/queries';

/** Today's patients by status, with the transitions the API allows as buttons. */
export default function FlowBoard() {
  const { t } = useTranslation();
  const doctors = useDoctors();
  const zone = useClinicCalendar().data?.zone;
  const today = zone ? dayIn(zone) : '';
  const appointments = useDayAppointments(zone ? today : undefined);
  const names = new Map((doctors.data ?? []).map((doctor) => [doctor.id, doctor]));

  return (
    <div className="flow">
      <h1>{t('flow.title')}</h1>
      <ErrorMessage error={doctors.error ?? appointments.error} />
      {appointments.isPending && <Loading />}
      {appointments.data && zone && (
        <div className="board">
          {boardStatuses.map((status) => {
            const items = appointments.data.filter((item) => item.status === status);
            return (
              <section key={status} className="board-column" aria-labelledby={`flow-${status}`}>
                <h2 id={`flow-${status}`}>
                  {t(`status.${status}`)} <span className="count">({items.length})</span>
                </h2>
                {items.length === 0 ? (
                  <p className="empty">{t('flow.empty')}</p>
                ) : (
                  <ul className="cards">
                    {items.map((item) => (
                      <FlowCard
                        key={item.id}
                        item={item}
                        zone={zone}
                        doctor={doctorName(names.get(item.doctor_id), '')}
                      />
                    ))}
                  </ul>
                )}
              </section>
            );
          })}
        </div>
      )}
    </div>
  );
}

function FlowCard({ item, zone, doctor }: { item: Appointment; zone: string; doctor: string }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [cancelling, setCancelling] = useState(false);
  const [reason, setReason] = useState('');
  const time = timeOfDay(item.starts_at, zone, document.documentElement.lang || 'en');
  const move = useMutation({
    mutationFn: async (transition: Transition) => {
      const path = { params: { path: { id: item.id } } };
      switch (transition) {
        case 'confirm':
          return dataOrThrow(await api.POST('/api/v1/appointments/{id}/confirm', path));
        case 'check-in':
          return dataOrThrow(await api.POST('/api/v1/appointments/{id}/check-in', path));
        case 'complete':
          return dataOrThrow(await api.POST('/api/v1/appointments/{id}/complete', path));
        case 'no-show':
          return dataOrThrow(await api.POST('/api/v1/appointments/{id}/no-show', path));
        case 'cancel':
          return dataOrThrow(
            await api.POST('/api/v1/appointments/{id}/cancel', { ...path, body: { reason } }),
          );
      }
    },
    onSuccess: (changed) => {
      setCancelling(false);
      applyAppointmentEvent(client, changed);
    },
  });
  const patient = item.patient.last_name;
  return (
    <li className={`card appt status-${item.status}`}>
      <p>
        <span className="time">{time}</span>{' '}
        <Link to={`/patients/${item.patient.id}`}>
          <strong className="surname">{patient}</strong>, {item.patient.first_name}
        </Link>
        {doctor && <span className="doctor"> {t('flow.doctor', { name: doctor })}</span>}
      </p>
      <div className="actions">
        {transitionsFrom(item.status).map((transition) =>
          transition === 'cancel' ? (
            <button
              key={transition}
              type="button"
              aria-expanded={cancelling}
              aria-label={t('transitions.actionFor', {
                action: t('transitions.cancel'),
                patient,
                time,
              })}
              onClick={() => {
                setCancelling((open) => !open);
              }}
            >
              {t('transitions.cancel')}
            </button>
          ) : (
            <button
              key={transition}
              type="button"
              disabled={move.isPending}
              aria-label={t('transitions.actionFor', {
                action: t(`transitions.${transition}`),
                patient,
                time,
              })}
              onClick={() => {
                move.mutate(transition);
              }}
            >
              {t(`transitions.${transition}`)}
            </button>
          ),
        )}
      </div>
      {cancelling && (
        <form
          className="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            move.mutate('cancel');
          }}
        >
          <label htmlFor={`reason-${item.id}`}>{t('transitions.cancelReason')}</label>
          <input
            id={`reason-${item.id}`}
            value={reason}
            required
            onChange={(event) => {
              setReason(event.target.value);
            }}
          />
          <button type="submit" disabled={move.isPending}>
            {t('transitions.cancelConfirm')}
          </button>
        </form>
      )}
      <ErrorMessage error={move.error} />
    </li>
  );
}
