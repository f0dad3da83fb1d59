import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api } from '../api/client';
import { canSeeMedical, useUser } from '../auth/useSession';
import { ErrorMessage, Loading } from '../components/Feedback';
import { patientName, type Patient } from '../lib/patients';
import { ApiError, dataOrThrow } from '../lib/problem';
import { saveBlob } from '../lib/download';
import { DemographicsForm } from './record/DemographicsForm';
import { Documents } from './record/Documents';
import { PatientAppointments } from './record/PatientAppointments';
import { Prescriptions } from './record/Prescriptions';
import { VisitNotes } from './record/VisitNotes';

export interface VersionedPatient {
  patient: Patient;
  etag: string | undefined;
}

/** Reads a patient with the ETag an edit must send back as If-Match. */
export async function fetchPatient(id: string): Promise<VersionedPatient> {
  const answer = await api.GET('/api/v1/patients/{id}', { params: { path: { id } } });
  return { patient: dataOrThrow(answer), etag: answer.response.headers.get('etag') ?? undefined };
}

/** A patient's record: demographics and contacts, medical fields for roles that may see them. */
export default function PatientRecord() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const user = useUser();
  const record = useQuery({ queryKey: ['patient', id], queryFn: () => fetchPatient(id) });
  if (record.error) {
    return (
      <>
        <h1>{t('patients.title')}</h1>
        <ErrorMessage error={record.error} />
        <Link to="/patients">{t('record.back')}</Link>
      </>
    );
  }
  if (!record.data) return <Loading />;
  const { patient } = record.data;
  const medical = canSeeMedical(user.role);
  return (
    <div className="record">
      <p>
        <Link to="/patients">{t('record.back')}</Link>
      </p>
      <h1>{patientName(patient)}</h1>
      <p className="meta">
        {t('record.mrn')}: {patient.mrn}
        {patient.date_of_birth && ` · ${t('patients.born', { date: patient.date_of_birth })}`}
      </p>
      {medical && <AllergyBanner allergies={patient.allergies} />}
      <SummaryPdf patientId={patient.id} name={patient.last_name} />
      <nav aria-label={t('record.sections')} className="section-links">
        <ul>
          <li>
            <a href="#demographics">{t('record.demographics')}</a>
          </li>
          <li>
            <a href="#appointments">{t('record.appointments')}</a>
          </li>
          {medical && (
            <li>
              <a href="#notes">{t('notes.title')}</a>
            </li>
          )}
          {medical && (
            <li>
              <a href="#prescriptions">{t('prescriptions.title')}</a>
            </li>
          )}
          <li>
            <a href="#documents">{t('documents.title')}</a>
          </li>
        </ul>
      </nav>
      <DemographicsForm key={patient.id} initial={record.data} role={user.role} />
      <PatientAppointments patientId={patient.id} />
      {medical && <VisitNotes patientId={patient.id} />}
      {medical && (
        <Prescriptions
          patientId={patient.id}
          allergies={patient.allergies ?? []}
          canPrescribe={user.role === 'doctor'}
        />
      )}
      <Documents patientId={patient.id} />
    </div>
  );
}

/** Allergies as visible text at the top of the record (roles that may read medical fields). */
function AllergyBanner({ allergies }: { allergies: string[] | undefined }) {
  const { t } = useTranslation();
  const list = allergies ?? [];
  return (
    <p className={list.length > 0 ? 'allergies warning' : 'allergies'}>
      <strong>{t('record.allergies')}:</strong>{' '}
      {list.length > 0 ? list.join(', ') : t('record.noAllergies')}
    </p>
  );
}

function SummaryPdf({ patientId, name }: { patientId: string; name: string }) {
  const { t } = useTranslation();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api.GET('/api/v1/patients/{id}/summary.pdf', {
        params: { path: { id: patientId } },
        parseAs: 'blob',
      });
      if (!answer.data) throw new ApiError(answer.response.status, undefined);
      saveBlob(answer.data, `summary-${name}.pdf`);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="summary-pdf">
      <button type="button" disabled={busy} onClick={() => void download()}>
        {t('record.downloadSummary')}
      </button>
      <ErrorMessage error={error} />
    </div>
  );
}
