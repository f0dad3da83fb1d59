import { useEffect, useLayoutEffect, useMemo, useRef, useState, type CSSProperties } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { useUser } from '../auth/useSession';
import { ErrorMessage, Loading } from '../components/Feedback';
import { orderDoctors, type Appointment } from '../lib/appointments';
import {
  addDays,
  clockLabel,
  dayIn,
  isDay,
  longDay,
  minutesIntoDay,
  timeOfDay,
} from '../lib/dates';
import { hourMarks, layoutDay, type Block, type Span } from '../lib/dayLayout';
import {
  doctorName,
  useClinicCalendar,
  useDayAppointments,
  useDoctors,
  type ClinicCalendar,
  type Doctor,
} from '../lib/queries';

/** The shortest block drawn, in minutes: a 5-minute appointment still shows its name. */
const MIN_BLOCK_MINUTES = 15;

/**
 * The clinic's day as a calendar: a time axis on the clinic's clock, one column per doctor (the
 * signed-in doctor's first), each appointment a block placed by its start and sized by its
 * length, kept live by the appointment event stream.
 */
export default function Today() {
  const { t } = useTranslation();
  const user = useUser();
  const doctors = useDoctors();
  const calendar = useClinicCalendar();
  const zone = calendar.data?.zone;
  const [params, setParams] = useSearchParams();
  const [showCancelled, setShowCancelled] = useState(false);
  const today = zone ? dayIn(zone) : undefined;
  const requested = params.get('date');
  // A day in the address is fetched at once; "today" has to wait for the clinic's zone.
  const day = requested && isDay(requested) ? requested : today;
  const appointments = useDayAppointments(day);

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
          {calendar.data?.known ? t('today.timeZone', { zone }) : t('today.timeZoneUnknown')}{' '}
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
      {(doctors.isPending || appointments.isPending || calendar.isPending) && <Loading />}
      {doctors.data && appointments.data && calendar.data && day && (
        <DayCalendar
          doctors={doctors.data}
          appointments={appointments.data}
          ownId={user.role === 'doctor' ? user.id : undefined}
          calendar={calendar.data}
          day={day}
          isToday={day === today}
          showCancelled={showCancelled}
        />
      )}
    </div>
  );
}

function locale(): string {
  return document.documentElement.lang || 'en';
}

/** Custom properties the stylesheet places things with (minutes, not pixels). */
function vars(values: Record<string, number | string>): CSSProperties {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [`--${name}`, value]));
}

function DayCalendar({
  doctors,
  appointments,
  ownId,
  calendar,
  day,
  isToday,
  showCancelled,
}: {
  doctors: Doctor[];
  appointments: Appointment[];
  ownId: string | undefined;
  calendar: ClinicCalendar;
  day: string;
  isToday: boolean;
  showCancelled: boolean;
}) {
  const { t } = useTranslation();
  const { zone, workdayStart, workdayEnd, slotStepMinutes } = calendar;
  const layout = useMemo(
    () =>
      layoutDay(appointments, {
        day,
        timeZone: zone,
        workday: { start: workdayStart, end: workdayEnd },
        showCancelled,
        minMinutes: MIN_BLOCK_MINUTES,
      }),
    [appointments, day, zone, workdayStart, workdayEnd, showCancelled],
  );
  const { window } = layout;
  const scroller = useRef<HTMLDivElement>(null);
  const axis = useRef<HTMLDivElement>(null);

  // On showing a day: scroll to an hour before now (today), or to the day's first appointment or
  // the working day's start, whichever is earlier. Not again on live changes.
  const firstTop = Math.min(
    ...[...layout.columns.values()].map((blocks) => blocks[0]?.top ?? Infinity),
  );
  const target = isToday
    ? minutesIntoDay(new Date().toISOString(), day, zone) - 60
    : Math.min(firstTop, workdayStart);
  const initial = useRef({ day: '', target });
  initial.current.target = target;
  useLayoutEffect(() => {
    const box = scroller.current;
    const hours = axis.current;
    if (!box || !hours || initial.current.day === day) return;
    initial.current.day = day;
    const perMinute = hours.offsetHeight / (window.end - window.start);
    const minute = Math.min(Math.max(initial.current.target, window.start), window.end);
    box.scrollTop = (minute - window.start) * perMinute;
  }, [day, window]);

  // A doctor deactivated since booking still has a column for their appointments.
  const known = new Set(doctors.map((doctor) => doctor.id));
  const extra = [...layout.columns.keys()]
    .filter((id) => !known.has(id))
    .map((id) => ({ id, full_name: null }));
  const columns = orderDoctors([...doctors, ...extra], ownId);
  if (columns.length === 0) return <p>{t('today.noDoctors')}</p>;

  const offHours: Span[] = [
    { start: window.start, end: Math.max(window.start, Math.min(workdayStart, window.end)) },
    { start: Math.min(window.end, Math.max(workdayEnd, window.start)), end: window.end },
  ].filter((span) => span.end > span.start);

  return (
    <div
      ref={scroller}
      className="calendar"
      role="region"
      aria-label={t('today.calendar')}
      // Scrollable by keyboard even on a day without appointments to Tab to.
      tabIndex={0}
    >
      <div
        className="cal-grid"
        style={vars({
          columns: columns.length,
          minutes: window.end - window.start,
          slot: slotStepMinutes > 0 ? slotStepMinutes : 15,
        })}
      >
        <div className="cal-corner" />
        <div className="time-axis" ref={axis} aria-hidden="true">
          {hourMarks(window).map((minute) => (
            <span key={minute} className="hour-label" style={vars({ at: minute - window.start })}>
              {clockLabel(minute, locale())}
            </span>
          ))}
        </div>
        {columns.map((doctor, index) => {
          const blocks = layout.columns.get(doctor.id) ?? [];
          const name = doctorName(doctor, t('today.unnamedDoctor', { id: doctor.id.slice(0, 8) }));
          return (
            <section
              key={doctor.id}
              className="cal-column"
              style={{ gridColumn: index + 2 }}
              aria-labelledby={`col-${doctor.id}`}
            >
              <div className="col-head">
                <h2 id={`col-${doctor.id}`}>
                  {name} {doctor.id === ownId && <span className="you">{t('today.you')}</span>}
                </h2>
                <p className="count">{t('today.appointmentCount', { count: blocks.length })}</p>
              </div>
              <div className="col-body">
                {offHours.map((span) => (
                  <div
                    key={span.start}
                    className="off-hours"
                    aria-hidden="true"
                    style={vars({ top: span.start - window.start, len: span.end - span.start })}
                  />
                ))}
                {blocks.length > 0 && (
                  <ol className="cal-appointments">
                    {blocks.map((block) => (
                      <AppointmentBlock
                        key={block.item.id}
                        block={block}
                        windowStart={window.start}
                        zone={zone}
                      />
                    ))}
                  </ol>
                )}
              </div>
            </section>
          );
        })}
        {isToday && <NowLine day={day} zone={zone} window={window} />}
      </div>
    </div>
  );
}

function AppointmentBlock({
  block,
  windowStart,
  zone,
}: {
  block: Block<Appointment>;
  windowStart: number;
  zone: string;
}) {
  const { t } = useTranslation();
  const { item } = block;
  const status = t(`status.${item.status}`);
  const classes = ['appt', `status-${item.status}`];
  if (block.cutStart) classes.push('cut-start');
  if (block.cutEnd) classes.push('cut-end');
  return (
    <li
      className={classes.join(' ')}
      style={vars({
        top: block.top - windowStart,
        len: block.bottom - block.top,
        lane: block.lane,
        lanes: block.lanes,
      })}
    >
      <Link to={`/patients/${item.patient.id}`}>
        <span className="appt-line">
          <strong className="surname">{item.patient.last_name}</strong>
          <span className="first-name">, {item.patient.first_name}</span>
        </span>{' '}
        <span className="appt-line">
          <span className="time">
            {timeOfDay(item.starts_at, zone, locale())}
            <span className="end-time">–{timeOfDay(item.ends_at, zone, locale())}</span>
          </span>{' '}
          <span className="badge">{status}</span>
        </span>
      </Link>
    </li>
  );
}

/** The current time across the columns, moved every half minute. */
function NowLine({ day, zone, window }: { day: string; zone: string; window: Span }) {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(new Date());
    }, 30_000);
    return () => {
      clearInterval(timer);
    };
  }, []);
  const minute = minutesIntoDay(now.toISOString(), day, zone);
  if (minute < window.start || minute > window.end) return null;
  return (
    <div className="now-layer" aria-hidden="true">
      <div className="now-line" style={vars({ at: minute - window.start })}>
        <span className="now-label">{timeOfDay(now.toISOString(), zone, locale())}</span>
      </div>
    </div>
  );
}
