import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { ErrorMessage, Loading } from '../../components/Feedback';
import { dateTime } from '../../lib/dates';
import { dataOrThrow } from '../../lib/problem';

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function PatientAppointments({ patientId }: { patientId: string }) {
  const { t } = useTranslation();
  const list = useQuery({
    queryKey: ['patient-appointments', patientId],
    queryFn: async () =>
      dataOrThrow(
        await api.GET('/api/v1/patients/{id}/appointments', {
          params: { path: { id: patientId } },
        }),
      ).items,
  });
  return (
    <section id="appointments" aria-labelledby="appointments-title" className="panel">
      <h2 id="appointments-title">{t('record.appointments')}</h2>
      <ErrorMessage error={list.error} />
      {list.isPending && <Loading />}
      {list.data?.length === 0 && <p>{t('record.noAppointmentsYet')}</p>}
      {list.data && list.data.length > 0 && (
        <ul className="plain">
          {list.data.map((item) => (
            <li key={item.id} className={`appt status-${item.status}`}>
              {dateTime(item.starts_at, zone, document.documentElement.lang || 'en')}{' '}
              <span className="badge">{t(`status.${item.status}`)}</span>
              {item.reason && ` · ${item.reason}`}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
