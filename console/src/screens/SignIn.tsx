import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { session } from '../api/client';
import type { SignedOutReason, SignInResult } from '../auth/session';
import { fieldErrors, problemText } from '../lib/problem';
import { TextField } from '../components/TextField';

interface Credentials {
  identifier: string;
  password: string;
}

/** Words for a refused sign-in: by status, else the API's own detail. */
function useFailureText() {
  const { t } = useTranslation();
  return (result: Extract<SignInResult, { kind: 'failed' }>, step: 'password' | 'mfa'): string => {
    if (result.status === 0) return t('app.networkError');
    if (result.status === 429) return t('signIn.tooMany');
    if (result.status === 401) return step === 'mfa' ? t('signIn.mfaInvalid') : t('signIn.invalid');
    return problemText(result.problem, t('app.unexpectedError'));
  };
}

export function SignIn({ reason }: { reason?: SignedOutReason | undefined }) {
  const { t } = useTranslation();
  const [mfaToken, setMfaToken] = useState<string>();
  return (
    <main id="main" className="sign-in">
      <h1>{mfaToken ? t('signIn.mfaTitle') : t('signIn.title')}</h1>
      {reason === 'expired' && !mfaToken && (
        <p role="alert" className="notice">
          {t('signIn.expired')}
        </p>
      )}
      {reason === 'signed-out' && !mfaToken && (
        <p role="status" className="notice">
          {t('signIn.signedOut')}
        </p>
      )}
      {reason === 'signed-out-everywhere' && !mfaToken && (
        <p role="status" className="notice">
          {t('signIn.signedOutEverywhere')}
        </p>
      )}
      {mfaToken ? (
        <MfaForm
          mfaToken={mfaToken}
          onRestart={() => {
            setMfaToken(undefined);
          }}
        />
      ) : (
        <PasswordForm onMfa={setMfaToken} />
      )}
    </main>
  );
}

function PasswordForm({ onMfa }: { onMfa: (token: string) => void }) {
  const { t } = useTranslation();
  const failureText = useFailureText();
  const [failure, setFailure] = useState<string>();
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<Credentials>({ defaultValues: { identifier: '', password: '' } });

  const submit = handleSubmit(async ({ identifier, password }) => {
    setFailure(undefined);
    const result = await session.signIn(identifier, password);
    if (result.kind === 'mfa') onMfa(result.mfaToken);
    if (result.kind !== 'failed') return;
    const fields = fieldErrors(result.problem);
    const identifierError = fields['email'] ?? fields['username'];
    if (identifierError) setError('identifier', { message: identifierError });
    if (fields['password']) setError('password', { message: fields['password'] });
    setFailure(failureText(result, 'password'));
  });

  return (
    <form onSubmit={(event) => void submit(event)} noValidate className="stack">
      <p>{t('signIn.intro')}</p>
      <TextField
        id="identifier"
        label={t('signIn.identifier')}
        type="text"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        registration={register('identifier', { required: t('signIn.required') })}
        error={errors.identifier?.message}
      />
      <TextField
        id="password"
        label={t('signIn.password')}
        type="password"
        autoComplete="current-password"
        registration={register('password', { required: t('signIn.required') })}
        error={errors.password?.message}
      />
      {failure && (
        <p role="alert" className="error">
          {failure}
        </p>
      )}
      <button type="submit" className="primary" disabled={isSubmitting}>
        {t('signIn.submit')}
      </button>
      {isSubmitting && <p role="status">{t('signIn.submitting')}</p>}
    </form>
  );
}

function MfaForm({ mfaToken, onRestart }: { mfaToken: string; onRestart: () => void }) {
  const { t } = useTranslation();
  const failureText = useFailureText();
  const [failure, setFailure] = useState<string>();
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<{ code: string }>({ defaultValues: { code: '' } });

  const submit = handleSubmit(async ({ code }) => {
    setFailure(undefined);
    const result = await session.verifyMfa(mfaToken, code);
    if (result.kind !== 'failed') return;
    const fields = fieldErrors(result.problem);
    if (fields['code']) setError('code', { message: fields['code'] });
    setFailure(failureText(result, 'mfa'));
  });

  return (
    <form onSubmit={(event) => void submit(event)} noValidate className="stack">
      <p>{t('signIn.mfaIntro')}</p>
      <TextField
        id="mfa-code"
        label={t('signIn.mfaCode')}
        type="text"
        inputMode="numeric"
        autoComplete="one-time-code"
        autoFocus
        registration={register('code', { required: t('signIn.required') })}
        error={errors.code?.message}
      />
      {failure && (
        <p role="alert" className="error">
          {failure}
        </p>
      )}
      <button type="submit" className="primary" disabled={isSubmitting}>
        {t('signIn.mfaSubmit')}
      </button>
      <button type="button" className="link" onClick={onRestart}>
        {t('signIn.back')}
      </button>
    </form>
  );
}
