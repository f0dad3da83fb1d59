import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { ErrorMessage, Loading } from '../../components/Feedback';
import { dateTime } from '../../lib/dates';
import { dataOrThrow } from '../../lib/problem';

/** The practice figures (GET /admin/stats). */
export function Figures() {
  const { t } = useTranslation();
  const stats = useQuery({
    queryKey: ['admin', 'stats'],
    queryFn: async () => dataOrThrow(await api.GET('/api/v1/admin/stats')),
  });
  if (stats.error) return <ErrorMessage error={stats.error} />;
  if (!stats.data) return <Loading />;
  const s = stats.data;
  const locale = document.documentElement.lang || 'en';
  return (
    <section aria-labelledby="figures-title">
      <h2 id="figures-title">{t('admin.figures')}</h2>
      <p className="hint">
        {t('admin.generatedAt', {
          when: dateTime(s.generated_at, s.time_zone, locale),
          zone: s.time_zone,
        })}
      </p>
      <dl className="figures">
        <div>
          <dt>{t('admin.patientsCount')}</dt>
          <dd>{s.patients}</dd>
        </div>
        <div>
          <dt>{t('admin.activeUsers')}</dt>
          <dd>{s.active_users}</dd>
        </div>
        <div>
          <dt>{t('admin.appointmentsToday')}</dt>
          <dd>{s.appointments_today}</dd>
        </div>
        <div>
          <dt>{t('admin.documentsCount')}</dt>
          <dd>{s.documents.count}</dd>
        </div>
        <div>
          <dt>{t('admin.storage')}</dt>
          <dd>{(s.documents.storage_bytes / 1_048_576).toFixed(1)} MB</dd>
        </div>
      </dl>
      <h3>{t('admin.appointmentsByStatus')}</h3>
      <dl className="figures">
        {Object.entries(s.appointments_by_status).map(([status, count]) => (
          <div key={status}>
            <dt>{t(`status.${status as keyof typeof s.appointments_by_status}`)}</dt>
            <dd>{count}</dd>
          </div>
        ))}
      </dl>
      <h3>{t('admin.prescriptionsByStatus')}</h3>
      <dl className="figures">
        {Object.entries(s.prescriptions_by_status).map(([status, count]) => (
          <div key={status}>
            <dt>
              {t(`prescriptions.statuses.${status as keyof typeof s.prescriptions_by_status}`)}
            </dt>
            <dd>{count}</dd>
          </div>
        ))}
      </dl>
      <h3>{t('admin.usersByRole')}</h3>
      <dl className="figures">
        {Object.entries(s.users_by_role).map(([role, count]) => (
          <div key={role}>
            <dt>{t(`roles.${role as keyof typeof s.users_by_role}`)}</dt>
            <dd>{count}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
