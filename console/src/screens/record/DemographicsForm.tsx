import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm, type Path } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { isProblem } from '@medcore/client';
import { api } from '../../api/client';
import type { Role } from '../../auth/session';
import { canEditMedical, canSeeMedical } from '../../auth/useSession';
import { ErrorMessage } from '../../components/Feedback';
import { fieldErrors } from '../../lib/problem';
import type { Patient } from '../../lib/patients';
import { fetchPatient, type VersionedPatient } from '../PatientRecord';
import { patientBody, patientForm, type PatientForm } from './patient-form';
import { PatientFields } from './PatientFields';

/**
 * Demographics and contacts (and medical fields for roles that may change them), saved with
 * If-Match. A 412 means someone else saved first: the user's input stays in the form, they can
 * load the latest version (its ETag) and save again, or discard their changes.
 */
export function DemographicsForm({ initial, role }: { initial: VersionedPatient; role: Role }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [etag, setEtag] = useState(initial.etag);
  const [base, setBase] = useState<Patient>(initial.patient);
  const [notice, setNotice] = useState<'saved' | 'stale' | 'latest'>();
  const [failure, setFailure] = useState<unknown>();
  const medicalEdit = canEditMedical(role);
  const {
    register,
    handleSubmit,
    reset,
    setError,
    control,
    formState: { errors, isSubmitting },
  } = useForm<PatientForm>({ defaultValues: patientForm(initial.patient) });

  const save = handleSubmit(async (values) => {
    setNotice(undefined);
    setFailure(undefined);
    const answer = await api.PATCH('/api/v1/patients/{id}', {
      params: { path: { id: base.id }, header: etag ? { 'if-match': etag } : {} },
      body: patientBody(values, medicalEdit),
    });
    if (answer.data) {
      const next = { patient: answer.data, etag: answer.response.headers.get('etag') ?? undefined };
      client.setQueryData(['patient', base.id], next);
      setEtag(next.etag);
      setBase(next.patient);
      reset(patientForm(next.patient));
      setNotice('saved');
      return;
    }
    if (answer.response.status === 412) {
      setNotice('stale');
      return;
    }
    const fields = fieldErrors(answer.error);
    for (const [field, message] of Object.entries(fields)) {
      // `emergency_contacts.0.phone` is the form's own path for that input.
      setError(field as Path<PatientForm>, { message });
    }
    setFailure(isProblem(answer.error) ? answer.error : new TypeError('network'));
  });

  const loadLatest = async (discard: boolean) => {
    setFailure(undefined);
    try {
      const latest = await fetchPatient(base.id);
      client.setQueryData(['patient', base.id], latest);
      setEtag(latest.etag);
      setBase(latest.patient);
      if (discard) {
        reset(patientForm(latest.patient));
        setNotice(undefined);
      } else {
        setNotice('latest');
      }
    } catch (caught) {
      setFailure(caught);
    }
  };

  return (
    <section id="demographics" aria-labelledby="demographics-title" className="panel">
      <h2 id="demographics-title">{t('record.demographics')}</h2>
      <form onSubmit={(event) => void save(event)} noValidate className="form-grid">
        <PatientFields
          register={register}
          errors={errors}
          control={control}
          medicalEdit={medicalEdit}
        />
        <div className="wide actions">
          <button type="submit" className="primary" disabled={isSubmitting}>
            {isSubmitting ? t('record.saving') : t('record.save')}
          </button>
        </div>
        {notice === 'saved' && (
          <p role="status" className="success wide">
            {t('record.saved')}
          </p>
        )}
        {notice === 'stale' && (
          <div role="alert" className="warning wide">
            <p>{t('record.stale')}</p>
            <button type="button" onClick={() => void loadLatest(false)}>
              {t('record.loadLatest')}
            </button>{' '}
            <button type="button" onClick={() => void loadLatest(true)}>
              {t('record.discard')}
            </button>
          </div>
        )}
        {notice === 'latest' && (
          <div role="status" className="notice wide">
            <p>{t('record.latestLoaded')}</p>
            <LatestValues patient={base} medical={canSeeMedical(role)} />
          </div>
        )}
        <div className="wide">
          <ErrorMessage error={failure} />
        </div>
      </form>
      {!medicalEdit && canSeeMedical(role) && <MedicalReadOnly patient={base} />}
    </section>
  );
}

/** The saved values next to the user's kept input, after a stale edit. */
function LatestValues({ patient, medical }: { patient: Patient; medical: boolean }) {
  const { t } = useTranslation();
  const rows: [string, string | null | undefined][] = [
    [t('record.firstName'), patient.first_name],
    [t('record.lastName'), patient.last_name],
    [t('record.dateOfBirth'), patient.date_of_birth],
    [t('record.email'), patient.email],
    [t('record.phone'), patient.phone],
    [t('record.address'), patient.address],
    [t('record.location'), patient.location],
  ];
  if (medical) rows.push([t('record.allergies'), (patient.allergies ?? []).join(', ')]);
  return (
    <dl className="facts">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value || '—'}</dd>
        </div>
      ))}
    </dl>
  );
}

function MedicalReadOnly({ patient }: { patient: Patient }) {
  const { t } = useTranslation();
  return (
    <div className="medical">
      <h3>{t('record.medical')}</h3>
      <dl className="facts">
        <div>
          <dt>{t('record.allergies')}</dt>
          <dd>{(patient.allergies ?? []).join(', ') || t('record.noAllergies')}</dd>
        </div>
        <div>
          <dt>{t('record.medicalHistory')}</dt>
          <dd>{patient.medical_history ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('record.notes')}</dt>
          <dd>{patient.notes ?? '—'}</dd>
        </div>
      </dl>
    </div>
  );
}
