import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes } from 'react-router';
import { isStaff, useSessionState } from './auth/useSession';
import { Layout } from './components/Layout';
import { SignIn } from './screens/SignIn';

// Route-level code splitting: the sign-in screen and the shell load first; each screen's code
// comes when it is opened, keeping the initial JavaScript small.
const Today = lazy(() => import('./screens/Today'));
const FlowBoard = lazy(() => import('./screens/FlowBoard'));
const Patients = lazy(() => import('./screens/Patients'));
const PatientRecord = lazy(() => import('./screens/PatientRecord'));
const Book = lazy(() => import('./screens/Book'));
const Admin = lazy(() => import('./screens/Admin'));
const Account = lazy(() => import('./screens/Account'));

export function App() {
  const state = useSessionState();
  const { t } = useTranslation();
  if (state.status === 'starting') {
    return (
      <main id="main" className="centered">
        <p role="status">{t('app.loading')}</p>
      </main>
    );
  }
  if (state.status === 'signed-out') return <SignIn reason={state.reason} />;
  const admin = state.user.role === 'admin';
  // Users and guests have no schedule screens: their home is the Account screen.
  const staff = isStaff(state.user.role);
  return (
    <Layout user={state.user}>
      <Suspense fallback={<p role="status">{t('app.loading')}</p>}>
        <Routes>
          <Route path="/" element={<Navigate to={staff ? '/today' : '/account'} replace />} />
          <Route path="/today" element={<Today />} />
          <Route path="/flow" element={<FlowBoard />} />
          <Route path="/patients" element={<Patients />} />
          <Route path="/patients/:id" element={<PatientRecord />} />
          <Route path="/book" element={<Book />} />
          <Route path="/account" element={<Account />} />
          <Route
            path="/admin/*"
            element={admin ? <Admin /> : <p role="alert">{t('app.forbidden')}</p>}
          />
          <Route path="*" element={<h1>{t('app.notFound')}</h1>} />
        </Routes>
      </Suspense>
    </Layout>
  );
}
