import {
  useFieldArray,
  type Control,
  type FieldErrors,
  type UseFormRegister,
} from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { FieldError } from '../../components/Feedback';
import type { PatientForm } from './patient-form';

interface FormParts {
  register: UseFormRegister<PatientForm>;
  errors: FieldErrors<PatientForm>;
  /** Prefix of the inputs' ids, so two forms on one page keep them unique. */
  prefix: string;
}

/**
 * A patient's fields, the same for editing the record and registering a new patient:
 * demographics, contacts, emergency contacts, and the medical fields only for roles that may
 * write them (`medicalEdit`). The API's messages sit under each input.
 */
export function PatientFields({
  register,
  errors,
  control,
  medicalEdit,
  prefix = 'f',
}: Omit<FormParts, 'prefix'> & {
  control: Control<PatientForm>;
  medicalEdit: boolean;
  prefix?: string;
}) {
  const { t } = useTranslation();
  const field = { register, errors, prefix };
  return (
    <>
      <TextField {...field} name="first_name" label={t('record.firstName')} required />
      <TextField {...field} name="last_name" label={t('record.lastName')} required />
      <TextField {...field} name="date_of_birth" label={t('record.dateOfBirth')} type="date" />
      <div className="field">
        <label htmlFor={`${prefix}-gender`}>{t('record.gender')}</label>
        <select id={`${prefix}-gender`} {...register('gender')}>
          <option value="">{t('record.genders.unset')}</option>
          <option value="female">{t('record.genders.female')}</option>
          <option value="male">{t('record.genders.male')}</option>
          <option value="other">{t('record.genders.other')}</option>
          <option value="unknown">{t('record.genders.unknown')}</option>
        </select>
      </div>
      <TextField {...field} name="email" label={t('record.email')} type="email" />
      <TextField {...field} name="phone" label={t('record.phone')} type="tel" />
      <TextField {...field} name="address" label={t('record.address')} />
      <TextField {...field} name="location" label={t('record.location')} />
      <div className="field checkbox">
        <input id={`${prefix}-reminders`} type="checkbox" {...register('reminders_opt_out')} />
        <label htmlFor={`${prefix}-reminders`}>{t('record.remindersOptOut')}</label>
      </div>
      <ContactsEditor control={control} {...field} />
      {medicalEdit && (
        <fieldset className="wide">
          <legend>{t('record.medical')}</legend>
          <TextField
            {...field}
            name="allergies"
            label={t('record.allergies')}
            hint={t('record.allergiesHint')}
          />
          <TextArea {...field} name="medical_history" label={t('record.medicalHistory')} />
          <TextField {...field} name="initial_complaint" label={t('record.initialComplaint')} />
          <TextField {...field} name="initial_diagnosis" label={t('record.initialDiagnosis')} />
          <TextArea {...field} name="notes" label={t('record.notes')} />
        </fieldset>
      )}
    </>
  );
}

/** Emergency contacts: rows to add, edit and remove; the API's messages sit under each input. */
function ContactsEditor({
  control,
  register,
  errors,
  prefix,
}: FormParts & { control: Control<PatientForm> }) {
  const { t } = useTranslation();
  const { fields, append, remove } = useFieldArray({ control, name: 'emergency_contacts' });
  const parts = ['name', 'relationship', 'phone'] as const;
  const labels = {
    name: t('record.contactName'),
    relationship: t('record.contactRelationship'),
    phone: t('record.contactPhone'),
  };
  return (
    <fieldset className="wide">
      <legend>{t('record.emergencyContacts')}</legend>
      {fields.length === 0 && <p>{t('record.noEmergencyContacts')}</p>}
      {fields.map((row, index) => (
        <div key={row.id} className="row contact-row">
          {parts.map((part) => {
            const id = `${prefix}-contact-${index}-${part}`;
            const message = errors.emergency_contacts?.[index]?.[part]?.message;
            return (
              <div key={part} className="field">
                <label htmlFor={id}>{`${labels[part]} ${index + 1}`}</label>
                <input
                  id={id}
                  type={part === 'phone' ? 'tel' : 'text'}
                  aria-invalid={message ? true : undefined}
                  aria-describedby={message ? `${id}-error` : undefined}
                  {...register(`emergency_contacts.${index}.${part}`)}
                />
                <FieldError id={`${id}-error`} message={message} />
              </div>
            );
          })}
          <button
            type="button"
            onClick={() => {
              remove(index);
            }}
          >
            {t('record.removeContact', { number: index + 1 })}
          </button>
        </div>
      ))}
      <button
        type="button"
        onClick={() => {
          append({ name: '', relationship: '', phone: '' });
        }}
      >
        {t('record.addContact')}
      </button>
    </fieldset>
  );
}

interface FieldProps extends FormParts {
  name: Exclude<keyof PatientForm, 'gender' | 'reminders_opt_out' | 'emergency_contacts'>;
  label: string;
  type?: string;
  required?: boolean;
  hint?: string;
}

function TextField({
  register,
  errors,
  prefix,
  name,
  label,
  type = 'text',
  required,
  hint,
}: FieldProps) {
  const { t } = useTranslation();
  const id = `${prefix}-${name}`;
  const message = errors[name]?.message;
  const described = [hint ? `${id}-hint` : '', message ? `${id}-error` : ''].join(' ').trim();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        aria-invalid={message ? true : undefined}
        aria-describedby={described || undefined}
        {...register(name, required ? { required: t('signIn.required') } : {})}
      />
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      <FieldError id={`${id}-error`} message={message} />
    </div>
  );
}

function TextArea({ register, errors, prefix, name, label }: FieldProps) {
  const id = `${prefix}-${name}`;
  const message = errors[name]?.message;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        rows={3}
        aria-invalid={message ? true : undefined}
        aria-describedby={message ? `${id}-error` : undefined}
        {...register(name)}
      />
      <FieldError id={`${id}-error`} message={message} />
    </div>
  );
}
