import { useTranslation } from 'react-i18next';
import { ApiError, problemText } from '../lib/problem';

/** A field's message from the API (or the form), tied to the field by `aria-describedby`. */
export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} className="field-error">
      {message}
    </p>
  );
}

/** What went wrong with a call, in words: the problem's detail, or a network message. */
export function ErrorMessage({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (error === null || error === undefined) return null;
  const text =
    error instanceof ApiError
      ? problemText(error.problem, t('app.unexpectedError'))
      : error instanceof TypeError
        ? t('app.networkError')
        : problemText(error, t('app.unexpectedError'));
  return (
    <p role="alert" className="error">
      {text}
    </p>
  );
}

export function Loading() {
  const { t } = useTranslation();
  return <p role="status">{t('app.loading')}</p>;
}
