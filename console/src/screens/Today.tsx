import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { useUser } from '../auth/useSession';
import { ErrorMessage, Loading } from '../components/Feedback';
import { byDoctor, orderDoctors, type Appointment } from '../lib/appointments';
import { addDays, dayIn, isDay, longDay, timeOfDay } from '../lib/dates';
import {
  doctorName,
  useClinicTimeZone,
  useDayAppointments,
  useDoctors,
  type Doctor,
} from '../lib/queries';

/** The clinic's day, one column per doctor (the signed-in doctor's first), kept live. */
export default function Today() {
  const { t } = useTranslation();
  const user = useUser();
  const doctors = useDoctors();
  const clinicZone = useClinicTimeZone(doctors.data);
  const zone = clinicZone.data?.zone;
  const [params, setParams] = useSearchParams();
  const [showCancelled, setShowCancelled] = useState(false);
  const today = zone ? dayIn(zone) : undefined;
  const requested = params.get('date');
  const day = requested && isDay(requested) ? requested : today;
  const appointments = useDayAppointments(day ?? '', day ? zone : undefined);

  const setDay = (next: string) => {
    setParams(next === today ? {} : { date: next });
  };

  return (
    <div className="today">
      <div className="toolbar">
        <div>
          <h1>{t('today.title')}</h1>
          {day && <p className="subtitle">{longDay(day, locale())}</p>}
        </div>
        {day && (
          <div className="day-controls" role="group" aria-label={t('today.dayControls')}>
            <button
              type="button"
              onClick={() => {
                setDay(addDays(day, -1));
              }}
            >
              {t('today.previous')}
            </button>
            <label htmlFor="day">{t('today.date')}</label>
            <input
              id="day"
              type="date"
              value={day}
              onChange={(event) => {
                if (isDay(event.target.value)) setDay(event.target.value);
              }}
            />
            <button
              type="button"
              onClick={() => {
                setDay(addDays(day, 1));
              }}
            >
              {t('today.next')}
            </button>
            {today && day !== today && (
              <button
                type="button"
                onClick={() => {
                  setDay(today);
                }}
              >
                {t('today.goToday')}
              </button>
            )}
          </div>
        )}
      </div>
      {zone && (
        <p className="hint">
          {clinicZone.data?.known ? t('today.timeZone', { zone }) : t('today.timeZoneUnknown')}{' '}
          <label className="inline">
            <input
              type="checkbox"
              checked={showCancelled}
              onChange={(event) => {
                setShowCancelled(event.target.checked);
              }}
            />{' '}
            {t('today.showCancelled')}
          </label>
        </p>
      )}
      <ErrorMessage error={doctors.error ?? appointments.error} />
      {(doctors.isPending || appointments.isPending) && <Loading />}
      {doctors.data && appointments.data && zone && (
        <DayGrid
          doctors={doctors.data}
          appointments={appointments.data}
          ownId={user.role === 'doctor' ? user.id : undefined}
          zone={zone}
          showCancelled={showCancelled}
        />
      )}
    </div>
  );
}

function locale(): string {
  return document.documentElement.lang || 'en';
}

function DayGrid({
  doctors,
  appointments,
  ownId,
  zone,
  showCancelled,
}: {
  doctors: Doctor[];
  appointments: Appointment[];
  ownId: string | undefined;
  zone: string;
  showCancelled: boolean;
}) {
  const { t } = useTranslation();
  const visible = showCancelled
    ? appointments
    : appointments.filter((item) => item.status !== 'cancelled');
  const groups = useMemo(() => byDoctor(visible), [visible]);
  // A doctor deactivated since booking still has a column for their appointments.
  const known = new Set(doctors.map((doctor) => doctor.id));
  const extra = [...groups.keys()]
    .filter((id) => !known.has(id))
    .map((id) => ({ id, full_name: null }));
  const columns = orderDoctors([...doctors, ...extra], ownId);
  if (columns.length === 0) return <p>{t('today.noDoctors')}</p>;
  return (
    <div className="day-grid">
      {columns.map((doctor) => {
        const items = groups.get(doctor.id) ?? [];
        const name = doctorName(doctor, t('today.unnamedDoctor', { id: doctor.id.slice(0, 8) }));
        return (
          <section key={doctor.id} className="doctor-column" aria-labelledby={`col-${doctor.id}`}>
            <h2 id={`col-${doctor.id}`}>
              {name} {doctor.id === ownId && <span className="you">{t('today.you')}</span>}
            </h2>
            <p className="count">{t('today.appointmentCount', { count: items.length })}</p>
            {items.length === 0 ? (
              <p className="empty">{t('today.noAppointments')}</p>
            ) : (
              <ol className="appointments">
                {items.map((item) => (
                  <li key={item.id} className={`appt status-${item.status}`}>
                    <Link to={`/patients/${item.patient.id}`}>
                      <span className="time">
                        {timeOfDay(item.starts_at, zone, locale())}–
                        {timeOfDay(item.ends_at, zone, locale())}
                      </span>{' '}
                      <strong className="surname">{item.patient.last_name}</strong>
                      <span className="first-name">, {item.patient.first_name}</span>{' '}
                      <span className="badge">{t(`status.${item.status}`)}</span>
                    </Link>
                  </li>
                ))}
              </ol>
            )}
          </section>
        );
      })}
    </div>
  );
}
