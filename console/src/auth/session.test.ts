import { describe, expect, it } from 'vitest';
import {
  fetchWithRefresh,
  readCookie,
  refreshDelayMs,
  SessionStore,
  type AuthApi,
  type Grant,
  type Outcome,
  type Timers,
} from './session';

const user = { id: 'u1', email: 'a@example.org', username: 'anna', role: 'doctor' as const };
const grant = (token: string): Grant => ({ access_token: token, expires_in: 900, user });

class FakeTimers implements Timers {
  pending = new Map<number, { callback: () => void; ms: number }>();
  private next = 1;
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { callback, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  delays(): number[] {
    return [...this.pending.values()].map((timer) => timer.ms);
  }
}

function fakeApi(overrides: Partial<AuthApi> = {}): AuthApi & { refreshes: number } {
  const api = {
    refreshes: 0,
    login: async () => ({ ok: true, value: grant('t-login') }) as Outcome<Grant>,
    mfa: async () => ({ ok: true, value: grant('t-mfa') }) as Outcome<Grant>,
    refresh: async (): Promise<Outcome<Grant>> => {
      api.refreshes += 1;
      return { ok: true, value: grant(`t-refresh-${api.refreshes}`) };
    },
    logout: async () => ({ ok: true, value: null }) as Outcome<null>,
    ...overrides,
  };
  return api;
}

describe('SessionStore', () => {
  it('signs out plainly on load when there is no session cookie', async () => {
    const store = new SessionStore(fakeApi(), () => undefined, new FakeTimers());
    await store.start();
    expect(store.getState()).toEqual({ status: 'signed-out' });
  });

  it('resumes a session on load from the refresh cookie and schedules the next refresh', async () => {
    const timers = new FakeTimers();
    const store = new SessionStore(fakeApi(), () => 'csrf', timers);
    await store.start();
    expect(store.getState()).toEqual({ status: 'signed-in', user });
    expect(store.accessToken()).toBe('t-refresh-1');
    expect(timers.delays()).toEqual([840_000]);
  });

  it('says the session expired when the refresh is refused', async () => {
    const api = fakeApi({ refresh: async () => ({ ok: false, status: 401 }) });
    const timers = new FakeTimers();
    const store = new SessionStore(api, () => 'csrf', timers);
    await store.signIn('anna', 'pw');
    expect(store.getState().status).toBe('signed-in');
    expect(await store.refresh()).toBe(false);
    expect(store.getState()).toEqual({ status: 'signed-out', reason: 'expired' });
    expect(store.accessToken()).toBeUndefined();
    expect(timers.delays()).toEqual([]);
  });

  it('keeps the session when a refresh gets no answer, and tries again', async () => {
    const api = fakeApi({ refresh: async () => ({ ok: false, status: 0 }) });
    const timers = new FakeTimers();
    const store = new SessionStore(api, () => 'csrf', timers);
    await store.signIn('anna', 'pw');
    expect(await store.refresh()).toBe(false);
    expect(store.getState().status).toBe('signed-in');
    expect(store.accessToken()).toBe('t-login');
    expect(timers.delays()).toEqual([10_000]);
  });

  it('shares one refresh between concurrent callers', async () => {
    const api = fakeApi();
    const store = new SessionStore(api, () => 'csrf', new FakeTimers());
    const results = await Promise.all([store.refresh(), store.refresh(), store.refresh()]);
    expect(results).toEqual([true, true, true]);
    expect(api.refreshes).toBe(1);
  });

  it('sends an e-mail or a username as such, and hands back the MFA step', async () => {
    const seen: unknown[] = [];
    const api = fakeApi({
      login: async (who) => {
        seen.push(who);
        return { ok: true, value: { mfa_required: true, mfa_token: 'm1', expires_in: 300 } };
      },
    });
    const store = new SessionStore(api, () => undefined, new FakeTimers());
    expect(await store.signIn(' anna@example.org ', 'pw')).toEqual({ kind: 'mfa', mfaToken: 'm1' });
    await store.signIn('anna', 'pw');
    expect(seen).toEqual([{ email: 'anna@example.org' }, { username: 'anna' }]);
    expect(store.getState().status).not.toBe('signed-in');
    expect(await store.verifyMfa('m1', '123 456')).toEqual({ kind: 'signed-in' });
    expect(store.accessToken()).toBe('t-mfa');
  });

  it('forgets the token on sign-out and tells the server with the CSRF token', async () => {
    const calls: unknown[] = [];
    const api = fakeApi({
      logout: async (csrf, token) => {
        calls.push([csrf, token]);
        return { ok: true, value: null };
      },
    });
    const store = new SessionStore(api, () => 'csrf-1', new FakeTimers());
    await store.signIn('anna', 'pw');
    await store.signOut();
    expect(store.accessToken()).toBeUndefined();
    expect(store.getState()).toEqual({ status: 'signed-out', reason: 'signed-out' });
    expect(calls).toEqual([['csrf-1', 't-login']]);
  });

  it('shows the sign-in screen only once the logout has cleared the cookies, refreshing nothing meanwhile', async () => {
    let answer: (value: { ok: false; status: number }) => void = () => undefined;
    const calls: string[] = [];
    const api = fakeApi({
      logout: () =>
        new Promise((resolve) => {
          calls.push('logout');
          answer = resolve;
        }),
      refresh: async () => {
        calls.push('refresh');
        return { ok: false, status: 401 };
      },
    });
    const store = new SessionStore(api, () => 'csrf-1', new FakeTimers());
    await store.signIn('anna', 'pw');
    const signingOut = store.signOut();
    expect(store.accessToken()).toBeUndefined();
    expect(store.getState().status).toBe('signed-in');
    // A request meeting a 401 meanwhile must not refresh (the answer would say "expired").
    expect(await store.refresh()).toBe(false);
    answer({ ok: false, status: 401 });
    await signingOut;
    expect(store.getState()).toEqual({ status: 'signed-out', reason: 'signed-out' });
    expect(calls).toEqual(['logout']);
  });

  it('after the server ended every session: signed out (so saying), cookies cleared, no refresh', async () => {
    const calls: string[] = [];
    const timers = new FakeTimers();
    const api = fakeApi({
      // The session is already gone on the server: the console logout answers 401 (and clears
      // the cookies), which must not turn into "your session has expired".
      logout: async () => {
        calls.push('logout');
        return { ok: false, status: 401 };
      },
      refresh: async () => ({ ok: false, status: 401 }),
    });
    const store = new SessionStore(api, () => 'csrf-1', timers);
    await store.signIn('anna', 'pw');
    await store.signOut('signed-out-everywhere');
    expect(store.getState()).toEqual({ status: 'signed-out', reason: 'signed-out-everywhere' });
    expect(store.accessToken()).toBeUndefined();
    expect(calls).toEqual(['logout']);
    expect(timers.delays()).toEqual([]);
    // A request that still meets a 401 afterwards refreshes in vain and changes nothing shown.
    const refreshed = await store.refresh();
    expect(refreshed).toBe(false);
    expect(store.getState()).toEqual({ status: 'signed-out', reason: 'signed-out-everywhere' });
  });
});

describe('refreshDelayMs', () => {
  it('refreshes a minute early, or at half-life for short tokens', () => {
    expect(refreshDelayMs(900)).toBe(840_000);
    expect(refreshDelayMs(60)).toBe(30_000);
    expect(refreshDelayMs(1)).toBe(1_000);
  });
});

describe('fetchWithRefresh', () => {
  it('refreshes once after a 401 and retries the request with the new token and body', async () => {
    const seen: { auth: string | null; body: string }[] = [];
    const base = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      seen.push({ auth: request.headers.get('authorization'), body: await request.text() });
      return new Response(null, { status: seen.length === 1 ? 401 : 200 });
    }) as typeof fetch;
    let token = 'old';
    const session = {
      refresh: async () => {
        token = 'new';
        return true;
      },
      accessToken: () => token,
    };
    const response = await fetchWithRefresh(
      base,
      session,
    )(
      new Request('http://x/api/v1/patients', {
        method: 'POST',
        body: '{"a":1}',
        headers: { authorization: 'Bearer old' },
      }),
    );
    expect(response.status).toBe(200);
    expect(seen).toEqual([
      { auth: 'Bearer old', body: '{"a":1}' },
      { auth: 'Bearer new', body: '{"a":1}' },
    ]);
  });

  it('gives the 401 back when the session is gone, and leaves unauthenticated calls alone', async () => {
    let calls = 0;
    const base = (async () => {
      calls += 1;
      return new Response(null, { status: 401 });
    }) as typeof fetch;
    const gone = { refresh: async () => false, accessToken: () => undefined };
    const wrapped = fetchWithRefresh(base, gone);
    const authed = new Request('http://x/a', { headers: { authorization: 'Bearer t' } });
    expect((await wrapped(authed)).status).toBe(401);
    expect((await wrapped(new Request('http://x/login'))).status).toBe(401);
    expect(calls).toBe(2);
  });
});

describe('readCookie', () => {
  it('finds one cookie among several', () => {
    expect(readCookie('a=1; medcore_csrf=abc%3D; b=2', 'medcore_csrf')).toBe('abc=');
    expect(readCookie('a=1', 'medcore_csrf')).toBeUndefined();
    expect(readCookie('', 'medcore_csrf')).toBeUndefined();
  });
});
