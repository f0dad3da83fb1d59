import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type SubmitEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { paths } from '@medcore/client';
import { api } from '../../api/client';
import { ErrorMessage, Loading } from '../../components/Feedback';
import { groupedActions, isAuditAction } from '../../lib/audit-actions';
import { dateTime } from '../../lib/dates';
import { dataOrThrow } from '../../lib/problem';

type AuditQuery = NonNullable<paths['/api/v1/admin/audit']['get']['parameters']['query']>;
type Outcome = NonNullable<AuditQuery['outcome']>;

const isOutcome = (value: string): value is Outcome =>
  value === 'success' || value === 'failure' || value === 'denied';

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The audit trail with filters, and the hash chain's verification. */
export function AuditTrail() {
  const { t } = useTranslation();
  const [filters, setFilters] = useState<AuditQuery>({ limit: 50 });
  const entries = useQuery({
    queryKey: ['admin', 'audit', filters],
    queryFn: async () =>
      dataOrThrow(await api.GET('/api/v1/admin/audit', { params: { query: filters } })).items,
  });
  const verify = useMutation({
    mutationFn: async () => dataOrThrow(await api.GET('/api/v1/admin/audit/verify')),
  });
  const locale = document.documentElement.lang || 'en';

  const apply = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => {
      const value = form.get(name);
      return typeof value === 'string' ? value.trim() : '';
    };
    const next: AuditQuery = { limit: 50 };
    const action = text('action');
    if (isAuditAction(action)) next.action = action;
    if (text('outcome')) next.outcome = text('outcome') as Outcome;
    if (UUID.test(text('actor_id'))) next.actor_id = text('actor_id');
    if (UUID.test(text('patient_id'))) next.patient_id = text('patient_id');
    if (text('from')) next.from = new Date(`${text('from')}T00:00:00`).toISOString();
    if (text('to')) next.to = new Date(`${text('to')}T23:59:59`).toISOString();
    setFilters(next);
  };

  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">{t('admin.audit')}</h2>
      <div className="verify">
        <button
          type="button"
          onClick={() => {
            verify.mutate();
          }}
          disabled={verify.isPending}
        >
          {verify.isPending ? t('admin.verifying') : t('admin.verify')}
        </button>
        {verify.data && (
          <p role="status" className={verify.data.ok ? 'success' : 'error'}>
            {verify.data.ok
              ? t('admin.chainOk', {
                  rows: verify.data.rows_checked,
                  pending: verify.data.pending_rows,
                })
              : t('admin.chainBroken', {
                  seq: verify.data.first_broken_seq ?? '?',
                  reason: verify.data.reason ?? '',
                })}
          </p>
        )}
        <ErrorMessage error={verify.error} />
      </div>
      <form onSubmit={apply} className="form-grid filters">
        <div className="field">
          <label htmlFor="audit-action">{t('admin.action')}</label>
          <select id="audit-action" name="action" defaultValue="">
            <option value="">{t('admin.anyAction')}</option>
            {groupedActions().map(({ group, actions }) => (
              <optgroup key={group} label={t(`admin.actionGroups.${group}`)}>
                {actions.map((item) => (
                  <option key={item} value={item}>
                    {item}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-outcome">{t('admin.outcome')}</label>
          <select id="audit-outcome" name="outcome" defaultValue="">
            <option value="">{t('admin.anyOutcome')}</option>
            <option value="success">{t('admin.outcomes.success')}</option>
            <option value="failure">{t('admin.outcomes.failure')}</option>
            <option value="denied">{t('admin.outcomes.denied')}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-actor">{t('admin.actor')}</label>
          <input id="audit-actor" name="actor_id" type="text" />
        </div>
        <div className="field">
          <label htmlFor="audit-patient">{t('admin.patientId')}</label>
          <input id="audit-patient" name="patient_id" type="text" />
        </div>
        <div className="field">
          <label htmlFor="audit-from">{t('admin.from')}</label>
          <input id="audit-from" name="from" type="date" />
        </div>
        <div className="field">
          <label htmlFor="audit-to">{t('admin.to')}</label>
          <input id="audit-to" name="to" type="date" />
        </div>
        <div className="wide">
          <button type="submit">{t('admin.filter')}</button>
        </div>
      </form>
      <ErrorMessage error={entries.error} />
      {entries.isPending && <Loading />}
      {entries.data?.length === 0 && <p>{t('admin.noEntries')}</p>}
      {entries.data && entries.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{t('admin.when')}</th>
                <th scope="col">{t('admin.action')}</th>
                <th scope="col">{t('admin.outcome')}</th>
                <th scope="col">{t('admin.who')}</th>
                <th scope="col">{t('admin.resource')}</th>
              </tr>
            </thead>
            <tbody>
              {entries.data.map((entry) => (
                <tr key={entry.seq}>
                  <td>{entry.seq}</td>
                  <td>{dateTime(entry.at, zone, locale)}</td>
                  <td>
                    <code>{entry.action}</code>
                  </td>
                  <td>
                    {isOutcome(entry.outcome)
                      ? t(`admin.outcomes.${entry.outcome}`)
                      : entry.outcome}
                  </td>
                  <td>
                    {entry.actor_role ?? ''} <code>{entry.actor_id?.slice(0, 8) ?? '—'}</code>
                  </td>
                  <td>
                    {entry.resource_type ?? ''} <code>{entry.resource_id?.slice(0, 8) ?? ''}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
