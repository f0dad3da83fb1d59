import { isProblem, type paths, type Problem } from '@medcore/client';
import { session } from '../api/client';

/** The only call that leaves the typed client: fetch cannot report upload progress, XHR can. */
const UPLOAD_PATH = '/api/v1/patients/{id}/documents' satisfies keyof paths;

export type UploadResult<T> =
  { ok: true; value: T } | { ok: false; status: number; problem?: Problem };

function send<T>(
  patientId: string,
  form: FormData,
  onProgress: (fraction: number) => void,
): Promise<UploadResult<T>> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', UPLOAD_PATH.replace('{id}', encodeURIComponent(patientId)));
    const token = session.accessToken();
    if (token !== undefined) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      const body: unknown = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) resolve({ ok: true, value: body as T });
      else
        resolve({ ok: false, status: xhr.status, ...(isProblem(body) ? { problem: body } : {}) });
    };
    xhr.onerror = () => {
      resolve({ ok: false, status: 0 });
    };
    xhr.send(form);
  });
}

/** Uploads a document with progress; after a 401 refreshes the session and tries once more. */
export async function uploadDocument<T>(
  patientId: string,
  form: FormData,
  onProgress: (fraction: number) => void,
): Promise<UploadResult<T>> {
  const first = await send<T>(patientId, form, onProgress);
  if (first.ok || first.status !== 401 || !(await session.refresh())) return first;
  return send<T>(patientId, form, onProgress);
}
