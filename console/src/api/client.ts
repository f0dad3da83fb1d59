import { createMedcoreClient, isProblem, type MedcoreClient } from '@medcore/client';
import {
  fetchWithRefresh,
  readCookie,
  SessionStore,
  type AuthApi,
  type Grant,
  type MfaChallenge,
  type Outcome,
} from '../auth/session';

export const CSRF_COOKIE = 'medcore_csrf';

/** The auth endpoints' client: no bearer middleware and no refresh-on-401 (no loops). */
const authClient = createMedcoreClient({ credentials: 'same-origin' });

async function outcome<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Outcome<T>> {
  try {
    const { data, error, response } = await call;
    if (response.ok) return { ok: true, value: data ?? (null as T) };
    return { ok: false, status: response.status, problem: isProblem(error) ? error : undefined };
  } catch {
    // fetch itself failed: no answer at all.
    return { ok: false, status: 0 };
  }
}

const authApi: AuthApi = {
  login: (who, password) =>
    outcome<Grant | MfaChallenge>(
      authClient
        .POST('/api/v1/auth/console/login', { body: { ...who, password } })
        .then((result) => ({ ...result, data: result.data as Grant | MfaChallenge | undefined })),
    ),
  mfa: (mfaToken, code) =>
    outcome<Grant>(
      authClient
        .POST('/api/v1/auth/console/mfa', { body: { mfa_token: mfaToken, code } })
        .then((result) => ({ ...result, data: result.data as Grant | undefined })),
    ),
  refresh: (csrf) =>
    outcome<Grant>(
      authClient
        .POST('/api/v1/auth/console/refresh', { headers: { 'X-CSRF-Token': csrf } })
        .then((result) => ({ ...result, data: result.data as Grant | undefined })),
    ),
  logout: (csrf, token) =>
    outcome<null>(
      authClient
        .POST('/api/v1/auth/console/logout', {
          headers: {
            'X-CSRF-Token': csrf,
            ...(token ? { Authorization: `Bearer ${token}` } : {}),
          },
        })
        .then((result) => ({ ...result, data: null })),
    ),
};

export const session = new SessionStore(authApi, () => readCookie(document.cookie, CSRF_COOKIE));

/**
 * The client every screen uses: the in-memory access token as a bearer token, and one refresh
 * and retry after a 401.
 */
export const api: MedcoreClient = createMedcoreClient({
  accessToken: session.accessToken,
  fetch: fetchWithRefresh((input, init) => globalThis.fetch(input, init), session),
});
