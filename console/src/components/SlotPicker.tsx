import { useTranslation } from 'react-i18next';
import { BookingError, type useAvailability } from '../lib/booking';
import { timeOfDay } from '../lib/dates';
import { patientName } from '../lib/patients';
import { ErrorMessage, FieldError, Loading } from './Feedback';

/**
 * The free slots of a day as radio buttons (Book and the record's "Reschedule"): `name` keeps
 * several pickers on one page apart, `error` is the form's message for the slot.
 */
export function SlotChoices({
  name,
  slots,
  chosen,
  onChoose,
  ready,
  error,
}: {
  name: string;
  slots: ReturnType<typeof useAvailability>;
  chosen: string | undefined;
  onChoose: (startsAt: string) => void;
  /** False until a doctor is known: shows the hint to pick one first. */
  ready: boolean;
  error: string | undefined;
}) {
  const { t } = useTranslation();
  const locale = document.documentElement.lang || 'en';
  const errorId = `${name}-error`;
  return (
    <fieldset
      aria-invalid={error ? true : undefined}
      aria-describedby={error ? errorId : undefined}
    >
      <legend>{t('book.slots')}</legend>
      {!ready && <p>{t('book.pickFirst')}</p>}
      {ready && slots.isPending && <Loading />}
      <ErrorMessage error={slots.error} />
      {slots.data?.items.length === 0 && <p>{t('book.noSlots')}</p>}
      <div className="slots">
        {slots.data?.items.map((item) => (
          <label key={item.starts_at} className="slot">
            <input
              type="radio"
              name={name}
              value={item.starts_at}
              checked={chosen === item.starts_at}
              onChange={() => {
                onChoose(item.starts_at);
              }}
            />
            {timeOfDay(item.starts_at, slots.data.time_zone, locale)}
          </label>
        ))}
      </div>
      <FieldError id={errorId} message={error} />
    </fieldset>
  );
}

/**
 * What went wrong with a booking or a move: a conflict names who holds the slot (when the caller
 * may read that appointment), anything else is the problem's words.
 */
export function BookingFailure({ error, zone }: { error: unknown; zone: string | undefined }) {
  const { t } = useTranslation();
  const locale = document.documentElement.lang || 'en';
  if (error === null || error === undefined) return null;
  // A 409 that names no appointment in the way (a final status, say) is told in the API's words.
  const slotTaken =
    error instanceof BookingError &&
    error.status === 409 &&
    (error.holder !== undefined || error.problem?.conflicting_appointment_id !== undefined);
  if (!slotTaken) return <ErrorMessage error={error} />;
  const holder = error.holder;
  return (
    <p role="alert" className="error">
      {holder && zone
        ? t('book.conflict', {
            patient: patientName(holder.patient),
            when: `${timeOfDay(holder.starts_at, zone, locale)}–${timeOfDay(holder.ends_at, zone, locale)}`,
          })
        : t('book.conflictUnknown')}
    </p>
  );
}
