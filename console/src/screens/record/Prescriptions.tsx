import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '@medcore/client';
import { api } from '../../api/client';
import { useUser } from '../../auth/useSession';
import { ErrorMessage, Loading } from '../../components/Feedback';
import { useAllergyCheck } from '../../lib/allergy-check';
import { saveBlob } from '../../lib/download';
import { canEndPrescription } from '../../lib/permissions';
import { ApiError, dataOrThrow, showFieldErrors } from '../../lib/problem';
import { TextField } from '../../components/TextField';

interface RxForm {
  medication: string;
  dosage: string;
  frequency: string;
  duration_days: string;
  refills: string;
  instructions: string;
}

type Prescription = Schemas['Prescription'];

/** The patient's prescriptions; doctors prescribe, warned of allergies before and after saving. */
export function Prescriptions({
  patientId,
  allergies,
  canPrescribe,
}: {
  patientId: string;
  allergies: string[];
  canPrescribe: boolean;
}) {
  const { t } = useTranslation();
  const user = useUser();
  const list = useQuery({
    queryKey: ['prescriptions', patientId],
    queryFn: async () =>
      dataOrThrow(
        await api.GET('/api/v1/patients/{id}/prescriptions', {
          params: { path: { id: patientId } },
        }),
      ).items,
  });
  return (
    <section id="prescriptions" aria-labelledby="prescriptions-title" className="panel">
      <h2 id="prescriptions-title">{t('prescriptions.title')}</h2>
      {canPrescribe ? (
        <PrescribeForm patientId={patientId} allergies={allergies} />
      ) : (
        <p className="hint">{t('prescriptions.onlyDoctors')}</p>
      )}
      <ErrorMessage error={list.error} />
      {list.isPending && <Loading />}
      {list.data?.length === 0 && <p>{t('prescriptions.empty')}</p>}
      <ul className="plain">
        {list.data?.map((rx) => (
          <li key={rx.id}>
            <strong>{rx.medication}</strong> · {rx.dosage} · {rx.frequency}{' '}
            <span className="badge">{t(`prescriptions.statuses.${rx.status}`)}</span>{' '}
            <PdfButton rx={rx} />
            {canEndPrescription(user, rx) && <EndButtons rx={rx} />}
            {rx.status === 'cancelled' && rx.cancel_reason && (
              <p>{t('prescriptions.cancelledBecause', { reason: rx.cancel_reason })}</p>
            )}
            {rx.warnings.map((warning) => (
              <p key={warning.allergen} className="warning">
                {t('prescriptions.allergyAfter', { message: warning.message })}
              </p>
            ))}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The printable prescription (GET /prescriptions/{id}/pdf), saved as a file. */
function PdfButton({ rx }: { rx: Prescription }) {
  const { t } = useTranslation();
  const [error, setError] = useState<unknown>();
  const download = async () => {
    setError(undefined);
    try {
      const answer = await api.GET('/api/v1/prescriptions/{id}/pdf', {
        params: { path: { id: rx.id } },
        parseAs: 'blob',
      });
      if (!answer.data) throw new ApiError(answer.response.status, undefined);
      saveBlob(answer.data, `prescription-${rx.medication}.pdf`);
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <>
      <button type="button" onClick={() => void download()}>
        {t('prescriptions.pdf', { medication: rx.medication })}
      </button>
      <ErrorMessage error={error} />
    </>
  );
}

/**
 * Ends an active prescription (prescriber or admin): "Complete" at once, "Cancel" after a
 * confirm step with an optional reason.
 */
function EndButtons({ rx }: { rx: Prescription }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const end = useMutation({
    mutationFn: async (to: 'complete' | 'cancel') => {
      const path = { params: { path: { id: rx.id } } };
      return to === 'complete'
        ? dataOrThrow(await api.POST('/api/v1/prescriptions/{id}/complete', path))
        : dataOrThrow(
            await api.POST('/api/v1/prescriptions/{id}/cancel', {
              ...path,
              body: reason.trim() ? { reason: reason.trim() } : {},
            }),
          );
    },
    onSuccess: () => {
      setConfirming(false);
      void client.invalidateQueries({ queryKey: ['prescriptions', rx.patient_id] });
    },
  });
  const reasonId = `rx-cancel-reason-${rx.id}`;
  return (
    <>
      {' '}
      <button
        type="button"
        disabled={end.isPending}
        onClick={() => {
          end.mutate('complete');
        }}
      >
        {t('prescriptions.complete', { medication: rx.medication })}
      </button>{' '}
      <button
        type="button"
        aria-expanded={confirming}
        onClick={() => {
          setConfirming((open) => !open);
        }}
      >
        {t('prescriptions.cancel', { medication: rx.medication })}
      </button>
      {confirming && (
        <form
          className="inline-form"
          aria-label={t('prescriptions.cancel', { medication: rx.medication })}
          onSubmit={(event) => {
            event.preventDefault();
            end.mutate('cancel');
          }}
        >
          <p>{t('prescriptions.cancelQuestion', { medication: rx.medication })}</p>
          <label htmlFor={reasonId}>{t('prescriptions.cancelReason')}</label>
          <input
            id={reasonId}
            value={reason}
            maxLength={500}
            onChange={(event) => {
              setReason(event.target.value);
            }}
          />{' '}
          <button type="submit" disabled={end.isPending}>
            {t('prescriptions.cancelConfirm')}
          </button>{' '}
          <button
            type="button"
            onClick={() => {
              setConfirming(false);
            }}
          >
            {t('prescriptions.keep')}
          </button>
        </form>
      )}
      <ErrorMessage error={end.error} />
    </>
  );
}

const rxFields = [
  'medication',
  'dosage',
  'frequency',
  'duration_days',
  'refills',
  'instructions',
] as const satisfies readonly (keyof RxForm)[];

function PrescribeForm({ patientId, allergies }: { patientId: string; allergies: string[] }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [saved, setSaved] = useState<Prescription>();
  const {
    register,
    handleSubmit,
    reset,
    setError,
    watch,
    formState: { errors },
  } = useForm<RxForm>({
    defaultValues: {
      medication: '',
      dosage: '',
      frequency: '',
      duration_days: '',
      refills: '0',
      instructions: '',
    },
  });
  const before = useAllergyCheck(patientId, watch('medication'), allergies);
  const prescribe = useMutation({
    mutationFn: async (form: RxForm) =>
      dataOrThrow(
        await api.POST('/api/v1/prescriptions', {
          body: {
            patient_id: patientId,
            medication: form.medication.trim(),
            dosage: form.dosage.trim(),
            frequency: form.frequency.trim(),
            refills: Number(form.refills || '0'),
            ...(form.duration_days ? { duration_days: Number(form.duration_days) } : {}),
            ...(form.instructions.trim() ? { instructions: form.instructions.trim() } : {}),
          },
        }),
      ),
    onSuccess: (rx) => {
      setSaved(rx);
      reset();
      void client.invalidateQueries({ queryKey: ['prescriptions', patientId] });
    },
    onError: (error) => {
      showFieldErrors(error, rxFields, setError);
    },
  });
  const submit = handleSubmit((form) => {
    setSaved(undefined);
    prescribe.mutate(form);
  });
  const text = (name: keyof RxForm, label: string, type = 'text', required = false) => (
    <TextField
      id={`rx-${name}`}
      label={label}
      type={type}
      min={type === 'number' ? 0 : undefined}
      registration={register(name, required ? { required: t('signIn.required') } : {})}
      error={errors[name]?.message}
    />
  );
  return (
    <form onSubmit={(event) => void submit(event)} noValidate className="form-grid">
      {text('medication', t('prescriptions.medication'), 'text', true)}
      {text('dosage', t('prescriptions.dosage'), 'text', true)}
      {text('frequency', t('prescriptions.frequency'), 'text', true)}
      {text('duration_days', t('prescriptions.durationDays'), 'number')}
      {text('refills', t('prescriptions.refills'), 'number')}
      {text('instructions', t('prescriptions.instructions'))}
      {before.allergens.length > 0 && (
        <p role="alert" className="warning wide">
          {t('prescriptions.allergyBefore', { allergen: before.allergens.join(', ') })}
          {before.offline && <> {t('prescriptions.allergyOffline')}</>}
        </p>
      )}
      <div className="wide">
        <button type="submit" className="primary" disabled={prescribe.isPending}>
          {t('prescriptions.add')}
        </button>
      </div>
      {saved && (
        <div role="status" className="wide">
          <p className="success">{t('prescriptions.added')}</p>
          {saved.warnings.map((warning) => (
            <p key={warning.allergen} className="warning">
              {t('prescriptions.allergyAfter', { message: warning.message })}
            </p>
          ))}
        </div>
      )}
      <div className="wide">
        <ErrorMessage error={prescribe.error} />
      </div>
    </form>
  );
}
