import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { ErrorMessage, FieldError, Loading } from '../../components/Feedback';
import { dateTime } from '../../lib/dates';
import { ApiError, dataOrThrow, fieldErrors } from '../../lib/problem';

const visitTypes = [
  'regular',
  'follow_up',
  'emergency',
  'consultation',
  'phone',
  'video',
  'home_visit',
] as const;
type VisitType = (typeof visitTypes)[number];

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Visit notes, newest first, and a form to add one (clinical roles only). */
export function VisitNotes({ patientId }: { patientId: string }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const notes = useQuery({
    queryKey: ['notes', patientId],
    queryFn: async () =>
      dataOrThrow(
        await api.GET('/api/v1/patients/{id}/notes', { params: { path: { id: patientId } } }),
      ).items,
  });
  const {
    register,
    handleSubmit,
    reset,
    setError,
    formState: { errors },
  } = useForm<{ content: string; visit_type: VisitType }>({
    defaultValues: { content: '', visit_type: 'regular' },
  });
  const add = useMutation({
    mutationFn: async (body: { content: string; visit_type: VisitType }) =>
      dataOrThrow(
        await api.POST('/api/v1/patients/{id}/notes', {
          params: { path: { id: patientId } },
          body,
        }),
      ),
    onSuccess: () => {
      reset();
      void client.invalidateQueries({ queryKey: ['notes', patientId] });
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      const fields = fieldErrors(error.problem);
      if (fields['content']) setError('content', { message: fields['content'] });
    },
  });
  const submit = handleSubmit((values) => {
    add.mutate(values);
  });
  return (
    <section id="notes" aria-labelledby="notes-title" className="panel">
      <h2 id="notes-title">{t('notes.title')}</h2>
      <form onSubmit={(event) => void submit(event)} noValidate className="stack">
        <div className="field">
          <label htmlFor="note-type">{t('notes.visitType')}</label>
          <select id="note-type" {...register('visit_type')}>
            {visitTypes.map((type) => (
              <option key={type} value={type}>
                {t(`notes.types.${type}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="note-content">{t('notes.content')}</label>
          <textarea
            id="note-content"
            rows={4}
            aria-invalid={errors.content ? true : undefined}
            aria-describedby={errors.content ? 'note-content-error' : undefined}
            {...register('content', { required: t('signIn.required') })}
          />
          <FieldError id="note-content-error" message={errors.content?.message} />
        </div>
        <button type="submit" disabled={add.isPending}>
          {t('notes.add')}
        </button>
        {add.isSuccess && <p role="status">{t('notes.added')}</p>}
        <ErrorMessage error={add.error} />
      </form>
      <ErrorMessage error={notes.error} />
      {notes.isPending && <Loading />}
      {notes.data?.length === 0 && <p>{t('notes.empty')}</p>}
      <ul className="plain notes-list">
        {notes.data?.map((note) => (
          <li key={note.id}>
            <p className="meta">
              {dateTime(note.created_at, zone, document.documentElement.lang || 'en')} ·{' '}
              {t(`notes.types.${note.visit_type}`)}
            </p>
            <p className="note-text">{note.content}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}
