import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { ErrorMessage } from '../../components/Feedback';
import { dataOrThrow, showFieldErrors } from '../../lib/problem';
import { TextField } from '../../components/TextField';

interface PasswordForm {
  current_password: string;
  new_password: string;
  repeat: string;
}

/**
 * POST /auth/password/change. The password rules are the API's: its messages (too short, too
 * common, the current one wrong) are shown next to the field they concern.
 */
export function PasswordChange() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const {
    register,
    handleSubmit,
    setError,
    reset,
    getValues,
    formState: { errors },
  } = useForm<PasswordForm>({
    defaultValues: { current_password: '', new_password: '', repeat: '' },
  });
  const change = useMutation({
    mutationFn: async (form: PasswordForm) => {
      const answer = await api.POST('/api/v1/auth/password/change', {
        body: { current_password: form.current_password, new_password: form.new_password },
      });
      if (!answer.response.ok) dataOrThrow(answer);
    },
    onSuccess: () => {
      reset();
      // The other sessions have ended.
      void client.invalidateQueries({ queryKey: ['sessions'] });
    },
    onError: (error) => {
      showFieldErrors(error, ['current_password', 'new_password'] as const, setError);
    },
  });
  const submit = handleSubmit((form) => {
    change.mutate(form);
  });
  return (
    <section aria-labelledby="password-title" className="panel">
      <h2 id="password-title">{t('account.password')}</h2>
      <p className="hint">{t('account.passwordIntro')}</p>
      <form onSubmit={(event) => void submit(event)} noValidate className="form-grid">
        <TextField
          id="pw-current_password"
          label={t('account.currentPassword')}
          type="password"
          autoComplete="current-password"
          registration={register('current_password', { required: t('signIn.required') })}
          error={errors.current_password?.message}
        />
        <TextField
          id="pw-new_password"
          label={t('account.newPassword')}
          type="password"
          autoComplete="new-password"
          registration={register('new_password', { required: t('signIn.required') })}
          error={errors.new_password?.message}
          hint={t('account.newPasswordHint')}
        />
        <TextField
          id="pw-repeat"
          label={t('account.repeatPassword')}
          type="password"
          autoComplete="new-password"
          registration={register('repeat', {
            validate: (value) =>
              value === getValues('new_password') || t('account.passwordsDiffer'),
          })}
          error={errors.repeat?.message}
        />
        <div className="wide">
          <button type="submit" className="primary" disabled={change.isPending}>
            {t('account.changePassword')}
          </button>
        </div>
        {change.isSuccess && (
          <p role="status" className="success wide">
            {t('account.passwordChanged')}
          </p>
        )}
        <div className="wide">
          <ErrorMessage error={change.error} />
        </div>
      </form>
    </section>
  );
}
