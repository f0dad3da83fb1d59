import type { InputHTMLAttributes, ReactNode } from 'react';
import type { UseFormRegisterReturn } from 'react-hook-form';
import { FieldError } from './Feedback';

interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'name'> {
  id: string;
  label: ReactNode;
  /** react-hook-form's registration of the field. */
  registration: UseFormRegisterReturn;
  /** The field's error in words (client rule or the API's problem), shown under it. */
  error?: string | undefined;
  /** A standing hint under the field, read out with it. */
  hint?: ReactNode;
}

/**
 * One labelled input of a form, the way every form here shows it: the label, the input marked
 * invalid and described by its hint and its error, the hint, then the error in words.
 */
export function TextField({ id, label, registration, error, hint, ...input }: TextFieldProps) {
  const describedBy =
    [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        {...input}
        {...registration}
      />
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}
