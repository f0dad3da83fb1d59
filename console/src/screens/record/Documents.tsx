import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type SubmitEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { isProblem, type Schemas } from '@medcore/client';
import { api } from '../../api/client';
import { useUser } from '../../auth/useSession';
import { ErrorMessage, FieldError, Loading } from '../../components/Feedback';
import { dataUrlOf, saveBlob } from '../../lib/download';
import { canWriteDocuments } from '../../lib/permissions';
import { ApiError, dataOrThrow, fieldErrors, problemText } from '../../lib/problem';
import { uploadDocument } from '../../lib/upload';

type Doc = Schemas['Document'];
type Category = Doc['category'];

const categories: Category[] = [
  'lab_result',
  'imaging',
  'referral',
  'clinical_letter',
  'other_clinical',
  'insurance',
  'consent',
  'identification',
  'correspondence',
  'administrative',
];

async function fetchContent(id: string): Promise<Blob> {
  const answer = await api.GET('/api/v1/documents/{id}/content', {
    params: { path: { id } },
    parseAs: 'blob',
  });
  if (!answer.data) throw new ApiError(answer.response.status, undefined);
  return answer.data;
}

/**
 * Documents: upload with progress, thumbnails of images, preview of PDFs and images, download,
 * and (for roles that may write documents) delete after a confirm step.
 */
export function Documents({ patientId }: { patientId: string }) {
  const { t } = useTranslation();
  const user = useUser();
  const mayWrite = canWriteDocuments(user.role);
  const [preview, setPreview] = useState<Doc>();
  const list = useQuery({
    queryKey: ['documents', patientId],
    queryFn: async () =>
      dataOrThrow(
        await api.GET('/api/v1/patients/{id}/documents', { params: { path: { id: patientId } } }),
      ).items,
  });
  const [actionError, setActionError] = useState<unknown>();
  const download = async (doc: Doc) => {
    setActionError(undefined);
    try {
      saveBlob(await fetchContent(doc.id), doc.original_name ?? doc.id);
    } catch (error) {
      setActionError(error);
    }
  };
  return (
    <section id="documents" aria-labelledby="documents-title" className="panel">
      <h2 id="documents-title">{t('documents.title')}</h2>
      <UploadForm patientId={patientId} />
      <ErrorMessage error={list.error ?? actionError} />
      {list.isPending && <Loading />}
      {list.data?.length === 0 && <p>{t('documents.empty')}</p>}
      <ul className="plain documents">
        {list.data?.map((doc) => {
          const name = doc.original_name ?? doc.id;
          return (
            <li key={doc.id}>
              {doc.has_thumbnail && <Thumbnail doc={doc} />}
              <span className="doc-name">{name}</span> · {t(`documents.categories.${doc.category}`)}{' '}
              · {t('documents.size', { size: Math.ceil(doc.size_bytes / 1024) })}{' '}
              <button type="button" onClick={() => void download(doc)}>
                {t('documents.download', { name })}
              </button>{' '}
              {doc.content_type !== 'text/plain' && (
                <button
                  type="button"
                  onClick={() => {
                    setPreview(doc);
                  }}
                >
                  {t('documents.preview', { name })}
                </button>
              )}
              {mayWrite && (
                <DeleteDocument
                  doc={doc}
                  onDeleted={() => {
                    if (preview?.id === doc.id) setPreview(undefined);
                  }}
                />
              )}
            </li>
          );
        })}
      </ul>
      {preview && (
        <Preview
          doc={preview}
          onClose={() => {
            setPreview(undefined);
          }}
        />
      )}
    </section>
  );
}

/** An image's small JPEG (GET /documents/{id}/thumbnail), fetched with the bearer token. */
function Thumbnail({ doc }: { doc: Doc }) {
  const { t } = useTranslation();
  const thumbnail = useQuery({
    queryKey: ['document-thumbnail', doc.id],
    staleTime: Infinity,
    queryFn: async () => {
      const answer = await api.GET('/api/v1/documents/{id}/thumbnail', {
        params: { path: { id: doc.id } },
        parseAs: 'blob',
      });
      if (!answer.data) throw new ApiError(answer.response.status, undefined);
      return dataUrlOf(answer.data, 'image/jpeg');
    },
  });
  if (!thumbnail.data) return null;
  return (
    <img
      className="thumbnail"
      src={thumbnail.data}
      alt={t('documents.thumbnail', { name: doc.original_name ?? doc.id })}
    />
  );
}

/** Deletes a document (DELETE /documents/{id}, soft) once the person confirms. */
function DeleteDocument({ doc, onDeleted }: { doc: Doc; onDeleted: () => void }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const name = doc.original_name ?? doc.id;
  const remove = useMutation({
    mutationFn: async () => {
      const answer = await api.DELETE('/api/v1/documents/{id}', {
        params: { path: { id: doc.id } },
      });
      if (!answer.response.ok) {
        throw new ApiError(
          answer.response.status,
          isProblem(answer.error) ? answer.error : undefined,
        );
      }
    },
    onSuccess: () => {
      setConfirming(false);
      onDeleted();
      void client.invalidateQueries({ queryKey: ['documents', doc.patient_id] });
    },
  });
  return (
    <>
      {' '}
      <button
        type="button"
        aria-expanded={confirming}
        onClick={() => {
          setConfirming((open) => !open);
        }}
      >
        {t('documents.delete', { name })}
      </button>
      {confirming && (
        <div role="group" aria-label={t('documents.delete', { name })} className="inline-form">
          <p>{t('documents.deleteQuestion', { name })}</p>
          <button
            type="button"
            className="danger"
            disabled={remove.isPending}
            onClick={() => {
              remove.mutate();
            }}
          >
            {t('documents.deleteConfirm')}
          </button>{' '}
          <button
            type="button"
            onClick={() => {
              setConfirming(false);
            }}
          >
            {t('documents.keep')}
          </button>
        </div>
      )}
      <ErrorMessage error={remove.error} />
    </>
  );
}

/**
 * An image is shown from a data: URL, a PDF in a frame from a blob: URL (the browser's viewer).
 * Both need the page's CSP to allow them (img-src data:, frame-src blob:).
 */
function Preview({ doc, onClose }: { doc: Doc; onClose: () => void }) {
  const { t } = useTranslation();
  const name = doc.original_name ?? doc.id;
  const [url, setUrl] = useState<string>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let revoke: string | undefined;
    let live = true;
    fetchContent(doc.id)
      .then(async (blob) => {
        if (doc.content_type === 'application/pdf') {
          const typed = new Blob([blob], { type: 'application/pdf' });
          revoke = URL.createObjectURL(typed);
          if (live) setUrl(revoke);
          return;
        }
        const data = await dataUrlOf(blob, doc.content_type);
        if (live) setUrl(data);
      })
      .catch((caught: unknown) => {
        if (live) setError(caught);
      });
    return () => {
      live = false;
      if (revoke) URL.revokeObjectURL(revoke);
    };
  }, [doc]);
  return (
    <div className="preview" role="region" aria-label={t('documents.previewTitle', { name })}>
      <button type="button" onClick={onClose}>
        {t('documents.closePreview')}
      </button>
      <ErrorMessage error={error} />
      {url && doc.content_type === 'application/pdf' && (
        <iframe src={url} title={t('documents.previewTitle', { name })} />
      )}
      {url && doc.content_type !== 'application/pdf' && (
        <img src={url} alt={t('documents.previewTitle', { name })} />
      )}
    </div>
  );
}

function UploadForm({ patientId }: { patientId: string }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [progress, setProgress] = useState<number>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();
  const [done, setDone] = useState(false);
  const submit = async (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const file = form.get('file');
    setDone(false);
    setFailure(undefined);
    if (!(file instanceof File) || file.size === 0) {
      setErrors({ file: t('signIn.required') });
      return;
    }
    setErrors({});
    // The multipart order the API reads: fields first, the file last.
    const body = new FormData();
    const category = form.get('category');
    body.set('category', typeof category === 'string' ? category : '');
    const rawDescription = form.get('description');
    const description = typeof rawDescription === 'string' ? rawDescription.trim() : '';
    if (description) body.set('description', description);
    body.set('file', file);
    setProgress(0);
    const result = await uploadDocument<Doc>(patientId, body, setProgress);
    setProgress(undefined);
    if (result.ok) {
      setDone(true);
      formElement.reset();
      void client.invalidateQueries({ queryKey: ['documents', patientId] });
      return;
    }
    setErrors(fieldErrors(result.problem));
    setFailure(
      result.status === 0
        ? t('app.networkError')
        : problemText(result.problem, t('app.unexpectedError')),
    );
  };
  const percent = progress === undefined ? undefined : Math.round(progress * 100);
  return (
    <form onSubmit={(event) => void submit(event)} noValidate className="form-grid">
      <div className="field">
        <label htmlFor="doc-file">{t('documents.file')}</label>
        <input
          id="doc-file"
          name="file"
          type="file"
          accept="application/pdf,image/png,image/jpeg,text/plain"
          aria-invalid={errors['file'] ? true : undefined}
          aria-describedby={errors['file'] ? 'doc-file-error' : undefined}
        />
        <FieldError id="doc-file-error" message={errors['file']} />
      </div>
      <div className="field">
        <label htmlFor="doc-category">{t('documents.category')}</label>
        <select id="doc-category" name="category" defaultValue="lab_result">
          {categories.map((category) => (
            <option key={category} value={category}>
              {t(`documents.categories.${category}`)}
            </option>
          ))}
        </select>
        <FieldError id="doc-category-error" message={errors['category']} />
      </div>
      <div className="field">
        <label htmlFor="doc-description">{t('documents.description')}</label>
        <input id="doc-description" name="description" type="text" />
        <FieldError id="doc-description-error" message={errors['description']} />
      </div>
      <div className="wide">
        <button type="submit" disabled={percent !== undefined}>
          {t('documents.upload')}
        </button>
      </div>
      {percent !== undefined && (
        <div className="wide">
          <label htmlFor="doc-progress">{t('documents.uploading', { percent })}</label>{' '}
          <progress id="doc-progress" max={100} value={percent} />
        </div>
      )}
      {done && (
        <p role="status" className="success wide">
          {t('documents.uploaded')}
        </p>
      )}
      {failure && (
        <p role="alert" className="error wide">
          {failure}
        </p>
      )}
    </form>
  );
}
