import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '@medcore/client';
import { api } from '../../api/client';
import type { Role } from '../../auth/session';
import { ErrorMessage, FieldError, Loading } from '../../components/Feedback';
import { dateTime } from '../../lib/dates';
import { dataOrThrow, showFieldErrors } from '../../lib/problem';
import { useDebounced } from '../../lib/useDebounced';
import { TextField } from '../../components/TextField';

type User = Schemas['User'];
const roles: Role[] = ['admin', 'doctor', 'nurse', 'receptionist', 'user', 'guest'];
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Users and roles: create, change role, deactivate, unlock, reset MFA. */
export function Users() {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const [role, setRole] = useState<Role | ''>('');
  const q = useDebounced(text.trim(), 250);
  const users = useQuery({
    queryKey: ['admin', 'users', q, role],
    queryFn: async () =>
      dataOrThrow(
        await api.GET('/api/v1/users', {
          params: { query: { limit: 100, ...(q ? { q } : {}), ...(role ? { role } : {}) } },
        }),
      ).items,
  });
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">{t('admin.users')}</h2>
      <CreateUser />
      <div className="row" role="search">
        <div className="field">
          <label htmlFor="user-search">{t('admin.search')}</label>
          <input
            id="user-search"
            type="search"
            value={text}
            onChange={(event) => {
              setText(event.target.value);
            }}
          />
        </div>
        <div className="field">
          <label htmlFor="user-role-filter">{t('admin.role')}</label>
          <select
            id="user-role-filter"
            value={role}
            onChange={(event) => {
              setRole(event.target.value as Role | '');
            }}
          >
            <option value="">{t('admin.allRoles')}</option>
            {roles.map((item) => (
              <option key={item} value={item}>
                {t(`roles.${item}`)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorMessage error={users.error} />
      {users.isPending && <Loading />}
      {users.data && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('admin.username')}</th>
                <th scope="col">{t('admin.email')}</th>
                <th scope="col">{t('admin.role')}</th>
                <th scope="col">{t('admin.status')}</th>
                <th scope="col">{t('admin.lastLogin')}</th>
                <th scope="col">{t('admin.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((user) => (
                <UserRow key={user.id} user={user} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

type Action = 'role' | 'deactivate' | 'unlock' | 'mfa';

function UserRow({ user }: { user: User }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [role, setRole] = useState<Role>(user.role);
  const name = user.full_name ?? user.username;
  const act = useMutation({
    mutationFn: async (action: Action) => {
      const path = { params: { path: { id: user.id } } };
      switch (action) {
        case 'role':
          return dataOrThrow(await api.PATCH('/api/v1/users/{id}', { ...path, body: { role } }));
        case 'deactivate':
          return dataOrThrow(
            await api.PATCH('/api/v1/users/{id}', { ...path, body: { is_active: false } }),
          );
        case 'unlock': {
          dataOrThrow(await api.POST('/api/v1/admin/users/{id}/unlock', path));
          return;
        }
        case 'mfa': {
          dataOrThrow(await api.POST('/api/v1/admin/users/{id}/mfa/reset', path));
          return;
        }
      }
    },
    onSuccess: () => void client.invalidateQueries({ queryKey: ['admin', 'users'] }),
  });
  return (
    <tr>
      <td>{user.username}</td>
      <td>{user.email}</td>
      <td>
        <label className="visually-hidden" htmlFor={`role-${user.id}`}>
          {t('admin.changeRole', { name })}
        </label>
        <select
          id={`role-${user.id}`}
          value={role}
          onChange={(event) => {
            setRole(event.target.value as Role);
          }}
        >
          {roles.map((item) => (
            <option key={item} value={item}>
              {t(`roles.${item}`)}
            </option>
          ))}
        </select>{' '}
        {role !== user.role && (
          <button
            type="button"
            onClick={() => {
              act.mutate('role');
            }}
          >
            {t('admin.applyRole', { name })}
          </button>
        )}
      </td>
      <td>{user.is_active ? t('admin.active') : t('admin.inactive')}</td>
      <td>
        {user.last_login_at
          ? dateTime(user.last_login_at, zone, document.documentElement.lang || 'en')
          : t('admin.never')}
      </td>
      <td className="actions">
        {user.is_active && (
          <button
            type="button"
            disabled={act.isPending}
            onClick={() => {
              act.mutate('deactivate');
            }}
          >
            {t('admin.deactivate', { name })}
          </button>
        )}
        <button
          type="button"
          disabled={act.isPending}
          onClick={() => {
            act.mutate('unlock');
          }}
        >
          {t('admin.unlock', { name })}
        </button>
        <button
          type="button"
          disabled={act.isPending}
          onClick={() => {
            act.mutate('mfa');
          }}
        >
          {t('admin.resetMfa', { name })}
        </button>
        {act.isSuccess && <span role="status">{t('admin.done', { name })}</span>}
        <ErrorMessage error={act.error} />
      </td>
    </tr>
  );
}

interface NewUser {
  email: string;
  username: string;
  full_name: string;
  password: string;
  role: Role;
}

const newUserFields = ['email', 'username', 'full_name', 'password', 'role'] as const;

function CreateUser() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const {
    register,
    handleSubmit,
    reset,
    setError,
    formState: { errors },
  } = useForm<NewUser>({
    defaultValues: { email: '', username: '', full_name: '', password: '', role: 'receptionist' },
  });
  const create = useMutation({
    mutationFn: async (form: NewUser) =>
      dataOrThrow(
        await api.POST('/api/v1/users', {
          body: {
            email: form.email.trim(),
            username: form.username.trim(),
            password: form.password,
            role: form.role,
            ...(form.full_name.trim() ? { full_name: form.full_name.trim() } : {}),
          },
        }),
      ),
    onSuccess: () => {
      reset();
      void client.invalidateQueries({ queryKey: ['admin', 'users'] });
    },
    onError: (error) => {
      showFieldErrors(error, newUserFields, setError);
    },
  });
  const submit = handleSubmit((form) => {
    create.mutate(form);
  });
  const input = (name: Exclude<keyof NewUser, 'role'>, label: string, type = 'text') => (
    <TextField
      id={`new-${name}`}
      label={label}
      type={type}
      autoComplete={name === 'password' ? 'new-password' : 'off'}
      registration={register(name, name === 'full_name' ? {} : { required: t('signIn.required') })}
      error={errors[name]?.message}
    />
  );
  return (
    <details className="panel">
      <summary>{t('admin.newUser')}</summary>
      <form onSubmit={(event) => void submit(event)} noValidate className="form-grid">
        {input('email', t('admin.email'), 'email')}
        {input('username', t('admin.username'))}
        {input('full_name', t('admin.fullName'))}
        {input('password', t('admin.password'), 'password')}
        <div className="field">
          <label htmlFor="new-role">{t('admin.role')}</label>
          <select id="new-role" {...register('role')}>
            {roles.map((item) => (
              <option key={item} value={item}>
                {t(`roles.${item}`)}
              </option>
            ))}
          </select>
          <FieldError id="new-role-error" message={errors.role?.message} />
        </div>
        <div className="wide">
          <button type="submit" className="primary" disabled={create.isPending}>
            {t('admin.create')}
          </button>
        </div>
        {create.data && (
          <p role="status" className="success wide">
            {t('admin.created', { name: create.data.username })}
          </p>
        )}
        <div className="wide">
          <ErrorMessage error={create.error} />
        </div>
      </form>
    </details>
  );
}
