import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { ErrorMessage, Loading } from '../../components/Feedback';
import { dateTime } from '../../lib/dates';
import { dataOrThrow } from '../../lib/problem';
import { formatBytes, uptimeParts } from '../../lib/system';

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The running system (GET /admin/system): release, database, storage, background work, limits. */
export function System() {
  const { t } = useTranslation();
  const system = useQuery({
    queryKey: ['admin', 'system'],
    queryFn: async () => dataOrThrow(await api.GET('/api/v1/admin/system')),
  });
  if (system.error) return <ErrorMessage error={system.error} />;
  if (!system.data) return <Loading />;
  const s = system.data;
  const locale = document.documentElement.lang || 'en';
  const number = (value: number) => new Intl.NumberFormat(locale).format(value);
  const configured = (value: 'configured' | 'not_configured') =>
    value === 'configured' ? t('admin.configured') : t('admin.notConfigured');
  const onOff = (value: boolean) => (value ? t('admin.on') : t('admin.off'));
  const pending = s.database.migrations_known - s.database.migrations_applied;
  const rows = (entries: [string, string][]) => (
    <dl className="facts">
      {entries.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
  return (
    <section aria-labelledby="system-title">
      <h2 id="system-title">{t('admin.system')}</h2>
      <p className="hint">
        {t('admin.systemAsOf', { when: dateTime(s.generated_at, zone, locale) })}
      </p>
      {rows([
        [t('admin.version'), s.version],
        [t('admin.uptime'), t('admin.uptimeValue', uptimeParts(s.uptime_s))],
        [t('admin.nodeVersion'), s.node_version],
      ])}
      <h3>{t('admin.database')}</h3>
      {rows([
        [t('admin.engine'), t(`admin.engines.${s.database.engine}`)],
        [t('admin.serverVersion'), s.database.server_version],
        [t('admin.databaseSize'), formatBytes(s.database.size_bytes, locale)],
        [
          t('admin.migrations'),
          t('admin.migrationsValue', {
            applied: s.database.migrations_applied,
            known: s.database.migrations_known,
          }),
        ],
      ])}
      {pending > 0 && (
        <p role="alert" className="warning">
          {t('admin.migrationsPending', { count: pending })}
        </p>
      )}
      <h3>{t('admin.storageSection')}</h3>
      {rows([
        [t('admin.storageDriver'), t(`admin.drivers.${s.storage.driver}`)],
        [t('admin.encrypted'), onOff(s.storage.encrypted)],
        [t('admin.virusScanning'), configured(s.storage.virus_scanning)],
      ])}
      <h3>{t('admin.backgroundWork')}</h3>
      {rows([
        [t('admin.queueBacklog'), number(s.queue_backlog)],
        [t('admin.promptGeneration'), configured(s.prompt_generation)],
        [t('admin.redis'), configured(s.redis)],
      ])}
      <h3>{t('admin.rateLimits')}</h3>
      {rows([
        [t('admin.rateLimitsEnabled'), onOff(s.rate_limits.enabled)],
        [t('admin.perMin'), number(s.rate_limits.per_min)],
        [t('admin.authPerMin'), number(s.rate_limits.auth_per_min)],
      ])}
    </section>
  );
}
