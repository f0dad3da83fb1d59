import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { ErrorMessage, FieldError } from '../../components/Feedback';
import { ApiError, dataOrThrow, fieldErrors } from '../../lib/problem';

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
      if (!(error instanceof ApiError)) return;
      const found = fieldErrors(error.problem);
      if (found['current_password']) {
        setError('current_password', { message: found['current_password'] });
      }
      if (found['new_password']) setError('new_password', { message: found['new_password'] });
    },
  });
  const submit = handleSubmit((form) => {
    change.mutate(form);
  });
  const describedBy = (name: keyof PasswordForm, hint = false) =>
    [hint ? `pw-${name}-hint` : '', errors[name] ? `pw-${name}-error` : '']
      .filter(Boolean)
      .join(' ') || undefined;
  return (
    <section aria-labelledby="password-title" className="panel">
      <h2 id="password-title">{t('account.password')}</h2>
      <p className="hint">{t('account.passwordIntro')}</p>
      <form onSubmit={(event) => void submit(event)} noValidate className="form-grid">
        <div className="field">
          <label htmlFor="pw-current_password">{t('account.currentPassword')}</label>
          <input
            id="pw-current_password"
            type="password"
            autoComplete="current-password"
            aria-invalid={errors.current_password ? true : undefined}
            aria-describedby={describedBy('current_password')}
            {...register('current_password', { required: t('signIn.required') })}
          />
          <FieldError id="pw-current_password-error" message={errors.current_password?.message} />
        </div>
        <div className="field">
          <label htmlFor="pw-new_password">{t('account.newPassword')}</label>
          <input
            id="pw-new_password"
            type="password"
            autoComplete="new-password"
            aria-invalid={errors.new_password ? true : undefined}
            aria-describedby={describedBy('new_password', true)}
            {...register('new_password', { required: t('signIn.required') })}
          />
          <p id="pw-new_password-hint" className="hint">
            {t('account.newPasswordHint')}
          </p>
          <FieldError id="pw-new_password-error" message={errors.new_password?.message} />
        </div>
        <div className="field">
          <label htmlFor="pw-repeat">{t('account.repeatPassword')}</label>
          <input
            id="pw-repeat"
            type="password"
            autoComplete="new-password"
            aria-invalid={errors.repeat ? true : undefined}
            aria-describedby={describedBy('repeat')}
            {...register('repeat', {
              validate: (value) =>
                value === getValues('new_password') || t('account.passwordsDiffer'),
            })}
          />
          <FieldError id="pw-repeat-error" message={errors.repeat?.message} />
        </div>
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
