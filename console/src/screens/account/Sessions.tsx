import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, session } from '../../api/client';
import { ErrorMessage, Loading } from '../../components/Feedback';
import { isCurrentSession, orderSessions, sessionIdOf } from '../../lib/account';
import { dateTime } from '../../lib/dates';
import { dataOrThrow } from '../../lib/problem';

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * The user's live sessions (GET /auth/sessions). This browser's is the one the access token's
 * `sid` names. Ending it (DELETE /auth/sessions/{id}) or every session (POST /auth/logout-all)
 * signs out here too: the console's own logout then clears its cookies.
 */
export function Sessions() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const locale = document.documentElement.lang || 'en';
  const sid = sessionIdOf(session.accessToken());
  const sessions = useQuery({
    queryKey: ['sessions'],
    queryFn: async () => dataOrThrow(await api.GET('/api/v1/auth/sessions')).items,
  });
  const end = useMutation({
    mutationFn: async ({ id }: { id: string; current: boolean }) => {
      const answer = await api.DELETE('/api/v1/auth/sessions/{id}', {
        params: { path: { id } },
      });
      // Already gone (ended elsewhere meanwhile) is what was wanted.
      if (!answer.response.ok && answer.response.status !== 404) dataOrThrow(answer);
    },
    onSuccess: async (_, { current }) => {
      // The cached data goes with the session (main.tsx clears it on every sign-out).
      if (current) {
        await session.signOut();
        return;
      }
      await client.invalidateQueries({ queryKey: ['sessions'] });
    },
  });
  const everywhere = useMutation({
    mutationFn: async () => {
      const answer = await api.POST('/api/v1/auth/logout-all');
      if (!answer.response.ok) dataOrThrow(answer);
    },
    onSuccess: async () => {
      await session.signOut('signed-out-everywhere');
    },
  });
  const items = sessions.data ? orderSessions(sessions.data, sid) : undefined;
  return (
    <section aria-labelledby="sessions-title" className="panel">
      <h2 id="sessions-title">{t('account.sessions')}</h2>
      <p className="hint">{t('account.sessionsIntro')}</p>
      <ErrorMessage error={sessions.error} />
      {sessions.isPending && <Loading />}
      {items?.length === 0 && <p>{t('account.noSessions')}</p>}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('account.started')}</th>
                <th scope="col">{t('account.lastUsed')}</th>
                <th scope="col">{t('account.ip')}</th>
                <th scope="col">{t('account.device')}</th>
                <th scope="col">{t('admin.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => {
                const current = isCurrentSession(item, sid);
                const started = dateTime(item.created_at, zone, locale);
                return (
                  <tr key={item.id} className={current ? 'current' : undefined}>
                    <td>
                      {started}
                      {current && (
                        <>
                          {' '}
                          <strong className="badge">{t('account.thisSession')}</strong>
                        </>
                      )}
                    </td>
                    <td>{dateTime(item.last_used_at, zone, locale)}</td>
                    <td>{item.ip ?? t('account.unknown')}</td>
                    <td className="user-agent">{item.user_agent ?? t('account.unknown')}</td>
                    <td>
                      <button
                        type="button"
                        disabled={end.isPending}
                        aria-label={
                          current
                            ? t('account.endThisSessionLabel')
                            : t('account.endSessionLabel', { when: started })
                        }
                        onClick={() => {
                          end.mutate({ id: item.id, current });
                        }}
                      >
                        {t('account.endSession')}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {end.isSuccess && (
        <p role="status" className="success">
          {t('account.sessionEnded')}
        </p>
      )}
      <ErrorMessage error={end.error} />
      <div className="stack everywhere">
        <p className="hint">{t('account.signOutEverywhereIntro')}</p>
        <button
          type="button"
          disabled={everywhere.isPending}
          onClick={() => {
            everywhere.mutate();
          }}
        >
          {t('account.signOutEverywhere')}
        </button>
        <ErrorMessage error={everywhere.error} />
      </div>
    </section>
  );
}
