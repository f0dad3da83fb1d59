import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink } from 'react-router';
import { session } from '../api/client';
import type { SessionUser } from '../auth/session';
import { isStaff } from '../auth/useSession';
import { useAppointmentEvents } from '../lib/events';
import { useClinicCalendar } from '../lib/calendar';

/** The signed-in frame: skip link, header with navigation and sign-out, the screen in <main>. */
export function Layout({ user, children }: { user: SessionUser; children: ReactNode }) {
  const { t } = useTranslation();
  const staff = isStaff(user.role);
  const live = useAppointmentEvents(staff);
  // Asked for at once, beside the screen's own code: the day view and the event stream need it.
  useClinicCalendar(staff);
  const links = [
    { to: '/today', label: t('nav.today'), show: staff },
    { to: '/flow', label: t('nav.flow'), show: staff },
    { to: '/patients', label: t('nav.patients'), show: staff },
    { to: '/book', label: t('nav.book'), show: staff },
    { to: '/admin', label: t('nav.admin'), show: user.role === 'admin' },
    { to: '/account', label: t('nav.account'), show: true },
  ].filter((link) => link.show);
  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <header className="app-header">
        <span className="brand">{t('app.name')}</span>
        <nav aria-label={t('nav.label')}>
          <ul>
            {links.map((link) => (
              <li key={link.to}>
                <NavLink to={link.to}>{link.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="user-box">
          <span>{t('nav.signedInAs', { name: user.username, role: t(`roles.${user.role}`) })}</span>
          {staff && (
            <span className={live ? 'live on' : 'live off'} role="status">
              {live ? t('today.live') : t('today.offline')}
            </span>
          )}
          <button type="button" onClick={() => void session.signOut()}>
            {t('nav.signOut')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
