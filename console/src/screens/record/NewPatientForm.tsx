import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm, type Path } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { isProblem } from '@medcore/client';
import { api } from '../../api/client';
import type { Role } from '../../auth/session';
import { canEditMedical } from '../../auth/useSession';
import { ErrorMessage } from '../../components/Feedback';
import { patientName } from '../../lib/patients';
import type { VersionedPatient } from '../PatientRecord';
import {
  duplicateKey,
  emptyPatientForm,
  patientBody,
  registrationRefusal,
  type PatientForm,
} from './patient-form';
import { PatientFields } from './PatientFields';

interface Duplicate {
  patientId: string | undefined;
  name: string;
  born: string;
}

/**
 * Registers a patient (POST /patients) and opens the new record. A likely duplicate (same name
 * and birth date) is explained, with the choice to open the existing record or to save anyway
 * (`?allow_duplicate=true`); field messages (a taken email among them) sit next to their field.
 */
export function NewPatientForm({ role, onClose }: { role: Role; onClose: () => void }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const navigate = useNavigate();
  const medicalEdit = canEditMedical(role);
  const [duplicate, setDuplicate] = useState<Duplicate>();
  // The name and birth date the person confirmed as another patient ("save anyway").
  const [confirmed, setConfirmed] = useState<string>();
  const [failure, setFailure] = useState<unknown>();
  const {
    register,
    handleSubmit,
    setError,
    control,
    formState: { errors, isSubmitting },
  } = useForm<PatientForm>({ defaultValues: emptyPatientForm() });

  const send = async (values: PatientForm, allowDuplicate: boolean) => {
    setDuplicate(undefined);
    setFailure(undefined);
    let answer;
    try {
      answer = await api.POST('/api/v1/patients', {
        params: { query: allowDuplicate ? { allow_duplicate: true } : {} },
        body: patientBody(values, medicalEdit),
      });
    } catch (caught) {
      setFailure(caught);
      return;
    }
    if (answer.data) {
      const created: VersionedPatient = {
        patient: answer.data,
        etag: answer.response.headers.get('etag') ?? undefined,
      };
      client.setQueryData(['patient', created.patient.id], created);
      void client.invalidateQueries({ queryKey: ['patients'] });
      void navigate(`/patients/${created.patient.id}`);
      return;
    }
    const refusal = registrationRefusal(answer.response.status, answer.error);
    switch (refusal.kind) {
      case 'fields':
        for (const [field, message] of Object.entries(refusal.fields)) {
          // `emergency_contacts.0.phone` is the form's own path for that input.
          setError(field as Path<PatientForm>, { message });
        }
        setFailure(answer.error);
        return;
      case 'duplicate':
        setDuplicate({
          patientId: refusal.patientId,
          name: patientName({
            first_name: values.first_name.trim(),
            last_name: values.last_name.trim(),
          }),
          born: values.date_of_birth,
        });
        return;
      case 'other':
        setFailure(isProblem(answer.error) ? answer.error : new TypeError('network'));
        return;
    }
  };

  const save = handleSubmit((values) => send(values, confirmed === duplicateKey(values)));
  const saveAnyway = handleSubmit((values) => {
    setConfirmed(duplicateKey(values));
    return send(values, true);
  });

  return (
    <section aria-labelledby="new-patient-title" className="panel">
      <h2 id="new-patient-title">{t('patients.newTitle')}</h2>
      <form onSubmit={(event) => void save(event)} noValidate className="form-grid">
        <PatientFields
          register={register}
          errors={errors}
          control={control}
          medicalEdit={medicalEdit}
          prefix="new"
        />
        <div className="wide actions">
          <button type="submit" className="primary" disabled={isSubmitting}>
            {isSubmitting ? t('patients.registering') : t('patients.register')}
          </button>{' '}
          <button type="button" onClick={onClose}>
            {t('app.cancel')}
          </button>
        </div>
        {duplicate && (
          <div role="alert" className="warning wide">
            <p>
              {duplicate.born
                ? t('patients.duplicate', { name: duplicate.name, date: duplicate.born })
                : t('patients.duplicateNoDate', { name: duplicate.name })}
            </p>
            {duplicate.patientId && (
              <>
                <Link to={`/patients/${duplicate.patientId}`}>
                  {t('patients.openExisting')}
                </Link>{' '}
              </>
            )}
            <button type="button" disabled={isSubmitting} onClick={() => void saveAnyway()}>
              {t('patients.saveAnyway')}
            </button>
          </div>
        )}
        <div className="wide">
          <ErrorMessage error={failure} />
        </div>
      </form>
    </section>
  );
}
