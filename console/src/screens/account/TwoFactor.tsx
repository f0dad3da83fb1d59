import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { ErrorMessage } from '../../components/Feedback';
import { secretGroups } from '../../lib/account';
import { dataOrThrow, showFieldErrors } from '../../lib/problem';
import { QrCode } from './QrCode';
import { TextField } from '../../components/TextField';

type Setup = {
  secret: string;
  otpauth_uri: string;
  digits: number;
  period: number;
  algorithm: string;
};

/** Sets the API's field messages on a form's fields (`password`, `code`). */
/**
 * TOTP: setup with the password (the otpauth URI as a QR code and as text, the secret to type),
 * enable with a code (the 10 backup codes shown once), disable with password and code.
 */
export function TwoFactor({ enabled }: { enabled: boolean }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [setup, setSetup] = useState<Setup>();
  const [backupCodes, setBackupCodes] = useState<string[]>();
  const [justDisabled, setJustDisabled] = useState(false);
  const refreshMe = () => client.invalidateQueries({ queryKey: ['me'] });
  return (
    <section aria-labelledby="mfa-title" className="panel">
      <h2 id="mfa-title">{t('account.mfa')}</h2>
      <p role="status">{enabled ? t('account.mfaOn') : t('account.mfaOff')}</p>
      {backupCodes && (
        <BackupCodes
          codes={backupCodes}
          onStored={() => {
            setBackupCodes(undefined);
          }}
        />
      )}
      {!enabled && !setup && (
        <StartSetup
          onStarted={(started) => {
            setJustDisabled(false);
            setSetup(started);
          }}
          justDisabled={justDisabled}
        />
      )}
      {!enabled && setup && (
        <EnableWithCode
          setup={setup}
          onEnabled={(codes) => {
            setSetup(undefined);
            setBackupCodes(codes);
            void refreshMe();
          }}
        />
      )}
      {enabled && !backupCodes && (
        <Disable
          onDisabled={() => {
            setJustDisabled(true);
            void refreshMe();
          }}
        />
      )}
    </section>
  );
}

function StartSetup({
  onStarted,
  justDisabled,
}: {
  onStarted: (setup: Setup) => void;
  justDisabled: boolean;
}) {
  const { t } = useTranslation();
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm<{ password: string }>({ defaultValues: { password: '' } });
  const start = useMutation({
    mutationFn: async ({ password }: { password: string }) =>
      dataOrThrow(await api.POST('/api/v1/auth/mfa/totp/setup', { body: { password } })),
    onSuccess: onStarted,
    onError: (error) => {
      showFieldErrors(error, ['password'] as const, setError);
    },
  });
  const submit = handleSubmit((form) => {
    start.mutate(form);
  });
  return (
    <form onSubmit={(event) => void submit(event)} noValidate className="stack">
      {justDisabled && (
        <p role="status" className="success">
          {t('account.mfaDisabled')}
        </p>
      )}
      <p className="hint">{t('account.mfaSetupIntro')}</p>
      <TextField
        id="mfa-setup-password"
        label={t('account.mfaPassword')}
        type="password"
        autoComplete="current-password"
        registration={register('password', { required: t('signIn.required') })}
        error={errors.password?.message}
      />
      <button type="submit" className="primary" disabled={start.isPending}>
        {t('account.mfaStart')}
      </button>
      <ErrorMessage error={start.error} />
    </form>
  );
}

function EnableWithCode({
  setup,
  onEnabled,
}: {
  setup: Setup;
  onEnabled: (codes: string[]) => void;
}) {
  const { t } = useTranslation();
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm<{ code: string }>({ defaultValues: { code: '' } });
  const enable = useMutation({
    mutationFn: async ({ code }: { code: string }) =>
      dataOrThrow(
        await api.POST('/api/v1/auth/mfa/totp/enable', {
          body: { code: code.replace(/\s+/g, '') },
        }),
      ).backup_codes,
    onSuccess: onEnabled,
    onError: (error) => {
      showFieldErrors(error, ['code'] as const, setError);
    },
  });
  const submit = handleSubmit((form) => {
    enable.mutate(form);
  });
  return (
    <div className="mfa-setup">
      <p>{t('account.mfaScan')}</p>
      <div className="mfa-codes">
        <QrCode text={setup.otpauth_uri} label={t('account.qrLabel')} />
        <div className="stack">
          <div className="field">
            <label htmlFor="mfa-secret">{t('account.secret')}</label>
            <input
              id="mfa-secret"
              type="text"
              readOnly
              className="mono"
              value={secretGroups(setup.secret)}
              spellCheck={false}
            />
          </div>
          <div className="field">
            <label htmlFor="mfa-uri">{t('account.otpauthUri')}</label>
            <textarea id="mfa-uri" readOnly rows={3} className="mono" value={setup.otpauth_uri} />
          </div>
          <p className="hint">
            {t('account.mfaParameters', {
              digits: setup.digits,
              period: setup.period,
              algorithm: setup.algorithm,
            })}
          </p>
        </div>
      </div>
      <form onSubmit={(event) => void submit(event)} noValidate className="stack">
        <TextField
          id="mfa-enable-code"
          label={t('account.mfaCode')}
          type="text"
          inputMode="numeric"
          autoComplete="one-time-code"
          registration={register('code', { required: t('signIn.required') })}
          error={errors.code?.message}
          hint={t('account.mfaCodeHint')}
        />
        <button type="submit" className="primary" disabled={enable.isPending}>
          {t('account.mfaEnable')}
        </button>
        <ErrorMessage error={enable.error} />
      </form>
    </div>
  );
}

function BackupCodes({ codes, onStored }: { codes: string[]; onStored: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="backup-codes" role="region" aria-labelledby="backup-codes-title">
      <p role="status" className="success">
        {t('account.mfaEnabled')}
      </p>
      <h3 id="backup-codes-title">{t('account.backupCodes')}</h3>
      <p className="warning">{t('account.backupCodesNote')}</p>
      <ul aria-labelledby="backup-codes-title" className="codes mono">
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ul>
      <button type="button" onClick={onStored}>
        {t('account.backupCodesStored')}
      </button>
    </div>
  );
}

function Disable({ onDisabled }: { onDisabled: () => void }) {
  const { t } = useTranslation();
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm<{ password: string; code: string }>({ defaultValues: { password: '', code: '' } });
  const disable = useMutation({
    mutationFn: async (form: { password: string; code: string }) => {
      const answer = await api.POST('/api/v1/auth/mfa/totp/disable', {
        body: { password: form.password, code: form.code.trim() },
      });
      if (!answer.response.ok) dataOrThrow(answer);
    },
    onSuccess: onDisabled,
    onError: (error) => {
      showFieldErrors(error, ['password', 'code'] as const, setError);
    },
  });
  const submit = handleSubmit((form) => {
    disable.mutate(form);
  });
  const field = (name: 'password' | 'code', label: string) => (
    <TextField
      id={`mfa-off-${name}`}
      label={label}
      type={name === 'password' ? 'password' : 'text'}
      autoComplete={name === 'password' ? 'current-password' : 'one-time-code'}
      registration={register(name, { required: t('signIn.required') })}
      error={errors[name]?.message}
    />
  );
  return (
    <form onSubmit={(event) => void submit(event)} noValidate className="stack">
      <p className="hint">{t('account.mfaDisableIntro')}</p>
      {field('password', t('account.mfaPassword'))}
      {field('code', t('account.mfaDisableCode'))}
      <button type="submit" disabled={disable.isPending}>
        {t('account.mfaDisable')}
      </button>
      <ErrorMessage error={disable.error} />
    </form>
  );
}
