import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../components/Feedback';
import { useMe } from '../lib/queries';
import { PasswordChange } from './account/PasswordChange';
import { Profile } from './account/Profile';
import { Sessions } from './account/Sessions';
import { TwoFactor } from './account/TwoFactor';

/** The signed-in user's own account: profile, password, two-factor authentication, sessions. */
export default function Account() {
  const { t } = useTranslation();
  const me = useMe();
  return (
    <div className="account">
      <h1>{t('account.title')}</h1>
      <ErrorMessage error={me.error} />
      {me.isPending && <Loading />}
      {me.data && (
        <>
          <Profile key={me.data.id} me={me.data} />
          <PasswordChange />
          <TwoFactor enabled={me.data.mfa_enabled} />
        </>
      )}
      <Sessions />
    </div>
  );
}
