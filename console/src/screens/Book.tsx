import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type SubmitEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api/client';
import { useUser } from '../auth/useSession';
import { FieldError } from '../components/Feedback';
import { BookingFailure, SlotChoices } from '../components/SlotPicker';
import { bookingError, useAvailability } from '../lib/booking';
import { applyAppointmentEvent } from '../lib/events';
import { dayIn, isDay, longDay, timeOfDay } from '../lib/dates';
import { patientName, usePatientSearch } from '../lib/patients';
import { ApiError, fieldErrors } from '../lib/problem';
import { doctorName, useClinicCalendar, useDoctors } from '../lib/queries';
import { useDebounced } from '../lib/useDebounced';

interface ChosenPatient {
  id: string;
  first_name: string;
  last_name: string;
}

const durations = [15, 30, 45, 60];

/** Book: patient (search as you type), doctor, day, a free slot; a conflict names the holder. */
export default function Book() {
  const { t } = useTranslation();
  const user = useUser();
  const client = useQueryClient();
  const doctors = useDoctors();
  const zone = useClinicCalendar().data?.zone;
  const [patient, setPatient] = useState<ChosenPatient>();
  const [doctorId, setDoctorId] = useState<string>(user.role === 'doctor' ? user.id : '');
  const [dayText, setDayText] = useState<string>('');
  const [duration, setDuration] = useState(30);
  const [slot, setSlot] = useState<string>();
  const [reason, setReason] = useState('');
  const [formErrors, setFormErrors] = useState<Record<string, string>>({});
  const day = isDay(dayText) ? dayText : zone ? dayIn(zone) : '';
  const locale = document.documentElement.lang || 'en';

  const slots = useAvailability(doctorId, day, duration);

  const book = useMutation({
    mutationFn: async () => {
      const answer = await api.POST('/api/v1/appointments', {
        body: {
          patient_id: patient?.id ?? '',
          doctor_id: doctorId,
          starts_at: slot ?? '',
          duration_minutes: duration,
          ...(reason.trim() ? { reason: reason.trim() } : {}),
        },
      });
      if (answer.data) return answer.data;
      throw await bookingError(answer);
    },
    onSuccess: (appointment) => {
      applyAppointmentEvent(client, appointment);
      setSlot(undefined);
      setReason('');
    },
    onError: (error) => {
      if (error instanceof ApiError) setFormErrors(fieldErrors(error.problem));
      void slots.refetch();
    },
  });

  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const missing: Record<string, string> = {};
    if (!patient) missing['patient_id'] = t('book.needPatient');
    if (!doctorId) missing['doctor_id'] = t('book.chooseDoctor');
    if (!slot) missing['starts_at'] = t('book.needSlot');
    setFormErrors(missing);
    if (Object.keys(missing).length === 0) book.mutate();
  };

  return (
    <div className="book">
      <h1>{t('book.title')}</h1>
      <form onSubmit={submit} noValidate className="stack">
        <PatientPicker
          chosen={patient}
          onChoose={(next) => {
            setPatient(next);
            book.reset();
          }}
          error={formErrors['patient_id']}
        />
        <div className="field">
          <label htmlFor="book-doctor">{t('book.doctor')}</label>
          <select
            id="book-doctor"
            value={doctorId}
            aria-invalid={formErrors['doctor_id'] ? true : undefined}
            aria-describedby={formErrors['doctor_id'] ? 'book-doctor-error' : undefined}
            onChange={(event) => {
              setDoctorId(event.target.value);
              setSlot(undefined);
            }}
          >
            <option value="">{t('book.chooseDoctor')}</option>
            {doctors.data?.map((doctor) => (
              <option key={doctor.id} value={doctor.id}>
                {doctorName(doctor, doctor.id)}
              </option>
            ))}
          </select>
          <FieldError id="book-doctor-error" message={formErrors['doctor_id']} />
        </div>
        <div className="row">
          <div className="field">
            <label htmlFor="book-day">{t('book.day')}</label>
            <input
              id="book-day"
              type="date"
              value={day}
              onChange={(event) => {
                setDayText(event.target.value);
                setSlot(undefined);
              }}
            />
          </div>
          <div className="field">
            <label htmlFor="book-duration">{t('book.duration')}</label>
            <select
              id="book-duration"
              value={duration}
              onChange={(event) => {
                setDuration(Number(event.target.value));
                setSlot(undefined);
              }}
            >
              {durations.map((minutes) => (
                <option key={minutes} value={minutes}>
                  {t('book.minutes', { count: minutes })}
                </option>
              ))}
            </select>
          </div>
        </div>
        <SlotChoices
          name="slot"
          slots={slots}
          chosen={slot}
          onChoose={setSlot}
          ready={doctorId !== ''}
          error={formErrors['starts_at']}
        />
        <div className="field">
          <label htmlFor="book-reason">{t('book.reason')}</label>
          <input
            id="book-reason"
            value={reason}
            aria-invalid={formErrors['reason'] ? true : undefined}
            aria-describedby={formErrors['reason'] ? 'book-reason-error' : undefined}
            onChange={(event) => {
              setReason(event.target.value);
            }}
          />
          <FieldError id="book-reason-error" message={formErrors['reason']} />
        </div>
        <button type="submit" className="primary" disabled={book.isPending}>
          {book.isPending ? t('book.booking') : t('book.submit')}
        </button>
        {book.data && zone && (
          <p role="status" className="success">
            {t('book.booked', {
              patient: patientName(book.data.patient),
              when: `${longDay(dayIn(zone, new Date(book.data.starts_at)), locale)} ${timeOfDay(book.data.starts_at, zone, locale)}`,
            })}{' '}
            <Link to={`/today?date=${dayIn(zone, new Date(book.data.starts_at))}`}>
              {t('book.showDay')}
            </Link>
          </p>
        )}
        <BookingFailure error={book.error} zone={zone} />
      </form>
    </div>
  );
}

function PatientPicker({
  chosen,
  onChoose,
  error,
}: {
  chosen: ChosenPatient | undefined;
  onChoose: (patient: ChosenPatient | undefined) => void;
  error: string | undefined;
}) {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const q = useDebounced(text, 250);
  const results = usePatientSearch(q, 8);
  if (chosen) {
    return (
      <div className="field">
        <p className="chosen">
          {t('book.chosen', { name: patientName(chosen) })}{' '}
          <button
            type="button"
            onClick={() => {
              onChoose(undefined);
            }}
          >
            {t('book.change')}
          </button>
        </p>
      </div>
    );
  }
  return (
    <div className="field" role="search">
      <label htmlFor="book-patient">{t('book.searchPatient')}</label>
      <input
        id="book-patient"
        type="search"
        autoComplete="off"
        value={text}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? 'book-patient-error' : undefined}
        onChange={(event) => {
          setText(event.target.value);
        }}
      />
      <FieldError id="book-patient-error" message={error} />
      {/* Only answers to what is typed now: a click must never pick a stale result. */}
      {q.trim() !== '' &&
        text.trim() === q.trim() &&
        !results.isPlaceholderData &&
        results.data && (
          <ul className="plain choices">
            {results.data.map((patient) => (
              <li key={patient.id}>
                <button
                  type="button"
                  onClick={() => {
                    onChoose(patient);
                  }}
                >
                  <strong className="surname">{patient.last_name}</strong>, {patient.first_name}
                  {patient.date_of_birth && ` · ${patient.date_of_birth}`}
                </button>
              </li>
            ))}
            {results.data.length === 0 && <li>{t('patients.noResults', { q })}</li>}
          </ul>
        )}
    </div>
  );
}
