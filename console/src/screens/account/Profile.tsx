import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '@medcore/client';
import { api } from '../../api/client';
import { ErrorMessage, FieldError } from '../../components/Feedback';
import { dataOrThrow, showFieldErrors } from '../../lib/problem';

interface ProfileForm {
  full_name: string;
  email: string;
  current_password: string;
}

const fields = ['full_name', 'email', 'current_password'] as const;

/** Own profile (GET/PATCH /users/me): full name and email; an email change needs the password. */
export function Profile({ me }: { me: Schemas['User'] }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const {
    register,
    handleSubmit,
    setError,
    watch,
    resetField,
    formState: { errors },
  } = useForm<ProfileForm>({
    defaultValues: { full_name: me.full_name ?? '', email: me.email, current_password: '' },
  });
  const emailChanged = watch('email').trim().toLowerCase() !== me.email.toLowerCase();
  const save = useMutation({
    mutationFn: async (form: ProfileForm) => {
      const fullName = form.full_name.trim() === '' ? null : form.full_name.trim();
      const body: { full_name?: string | null; email?: string; current_password?: string } = {};
      if (fullName !== me.full_name) body.full_name = fullName;
      if (form.email.trim() !== me.email) {
        body.email = form.email.trim();
        body.current_password = form.current_password;
      }
      if (Object.keys(body).length === 0) return 'unchanged' as const;
      return dataOrThrow(await api.PATCH('/api/v1/users/me', { body }));
    },
    onSuccess: (result) => {
      resetField('current_password');
      if (result !== 'unchanged') client.setQueryData(['me'], result);
    },
    onError: (error) => {
      showFieldErrors(error, fields, setError);
    },
  });
  const submit = handleSubmit((form) => {
    save.mutate(form);
  });
  const input = (
    name: (typeof fields)[number],
    label: string,
    type: string,
    autoComplete: string,
    hint?: string,
  ) => {
    const describedBy = [hint ? `me-${name}-hint` : '', errors[name] ? `me-${name}-error` : '']
      .filter(Boolean)
      .join(' ');
    return (
      <div className="field">
        <label htmlFor={`me-${name}`}>{label}</label>
        <input
          id={`me-${name}`}
          type={type}
          autoComplete={autoComplete}
          aria-invalid={errors[name] ? true : undefined}
          aria-describedby={describedBy || undefined}
          {...register(name, {
            ...(name === 'email' ? { required: t('signIn.required') } : {}),
            ...(name === 'current_password'
              ? { validate: (value) => !emailChanged || value !== '' || t('signIn.required') }
              : {}),
          })}
        />
        {hint && (
          <p id={`me-${name}-hint`} className="hint">
            {hint}
          </p>
        )}
        <FieldError id={`me-${name}-error`} message={errors[name]?.message} />
      </div>
    );
  };
  return (
    <section aria-labelledby="profile-title" className="panel">
      <h2 id="profile-title">{t('account.profile')}</h2>
      <dl className="facts">
        <div>
          <dt>{t('account.username')}</dt>
          <dd>{me.username}</dd>
        </div>
        <div>
          <dt>{t('account.role')}</dt>
          <dd>{t(`roles.${me.role}`)}</dd>
        </div>
      </dl>
      <form onSubmit={(event) => void submit(event)} noValidate className="form-grid">
        {input('full_name', t('account.fullName'), 'text', 'name')}
        {input('email', t('account.email'), 'email', 'email', t('account.emailHint'))}
        {emailChanged &&
          input(
            'current_password',
            t('account.currentPasswordForEmail'),
            'password',
            'current-password',
          )}
        <div className="wide">
          <button type="submit" className="primary" disabled={save.isPending}>
            {t('account.saveProfile')}
          </button>
        </div>
        {save.isSuccess && (
          <p role="status" className="success wide">
            {save.data === 'unchanged' ? t('account.nothingChanged') : t('account.profileSaved')}
          </p>
        )}
        <div className="wide">
          <ErrorMessage error={save.error} />
        </div>
      </form>
    </section>
  );
}
