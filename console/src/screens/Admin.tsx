import { useTranslation } from 'react-i18next';
import { Navigate, NavLink, Route, Routes } from 'react-router';
import { AuditTrail } from './admin/AuditTrail';
import { Figures } from './admin/Figures';
import { System } from './admin/System';
import { Users } from './admin/Users';

/**
 * Administration: users and roles, the audit trail with its chain check, practice figures, the
 * running system.
 */
export default function Admin() {
  const { t } = useTranslation();
  return (
    <div className="admin">
      <h1>{t('admin.title')}</h1>
      <nav aria-label={t('admin.sections')} className="tabs">
        <ul>
          <li>
            <NavLink to="/admin/users">{t('admin.users')}</NavLink>
          </li>
          <li>
            <NavLink to="/admin/audit">{t('admin.audit')}</NavLink>
          </li>
          <li>
            <NavLink to="/admin/figures">{t('admin.figures')}</NavLink>
          </li>
          <li>
            <NavLink to="/admin/system">{t('admin.system')}</NavLink>
          </li>
        </ul>
      </nav>
      <Routes>
        <Route index element={<Navigate to="users" replace />} />
        <Route path="users" element={<Users />} />
        <Route path="audit" element={<AuditTrail />} />
        <Route path="figures" element={<Figures />} />
        <Route path="system" element={<System />} />
      </Routes>
    </div>
  );
}
