import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { decodeJwt, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../app.js';
import { auditLog } from '../../../db/schema/audit.js';
import {
  bearer,
  buildTestApp,
  createUser,
  login,
  problemOf,
  testClock,
  testSecret,
  type TestApp,
  type TestUser,
  type TokenPairBody,
} from '../../../../test/helpers.js';

let t: TestApp;
let user: TestUser;
let other: TestUser;
/** The sid of `user`'s live session, taken from the token the server issued. */
let sid: string;

const key = new TextEncoder().encode(testSecret);

// Only the refresh-family tests move it (past the reuse grace); JWT expiry uses real time.
const clock = testClock();

beforeAll(async () => {
  t = await buildTestApp({}, { clock });
  user = await createUser(t.app, 'doctor');
  other = await createUser(t.app, 'nurse');
  sid = decodeJwt(user.accessToken).sid as string;
});
afterAll(async () => {
  await t.close();
});

function me(headers: Record<string, string>) {
  return t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers });
}

async function expectRejected(headers: Record<string, string>) {
  const res = await me(headers);
  expect(res.statusCode).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
  expect(problemOf(res).code).toBe('unauthorized');
  expect(res.body).not.toContain(user.email);
}

async function expectAccepted(token: string, userId = user.id) {
  const res = await me(bearer(token));
  expect(res.statusCode).toBe(200);
  expect(res.json<{ id: string }>().id).toBe(userId);
}

const now = () => Math.floor(Date.now() / 1000);

interface ForgeOptions {
  alg?: string;
  typ?: string | null;
  secret?: Uint8Array;
  iss?: string | null;
  aud?: string | null;
  iat?: number;
  exp?: number | null;
  claims?: Record<string, unknown>;
  omit?: string[];
}

/** A token built like the server's, except for what the options change. */
async function forge(options: ForgeOptions = {}): Promise<string> {
  const omit = new Set(options.omit ?? []);
  const payload: JWTPayload = Object.fromEntries(
    Object.entries({
      sub: user.id,
      role: 'doctor',
      sid,
      jti: randomUUID(),
      ...options.claims,
    }).filter(([claim]) => !omit.has(claim)),
  );
  const header: { alg: string; typ?: string } = { alg: options.alg ?? 'HS256' };
  if (options.typ !== null) header.typ = options.typ ?? 'at+jwt';
  const jwt = new SignJWT(payload).setProtectedHeader(header).setIssuedAt(options.iat ?? now());
  if (options.iss !== null) jwt.setIssuer(options.iss ?? 'medcore');
  if (options.aud !== null) jwt.setAudience(options.aud ?? 'medcore-api');
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now() + 900);
  return jwt.sign(options.secret ?? key);
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

describe('control cases: tokens that must be accepted', () => {
  it('the access token issued at login', async () => {
    await expectAccepted(user.accessToken);
  });

  it('a forged token with exactly the server’s parameters (proves the forge helper is right)', async () => {
    await expectAccepted(await forge());
  });

  it('a lowercase "bearer" scheme', async () => {
    const res = await me({ authorization: `bearer ${user.accessToken}` });
    expect(res.statusCode).toBe(200);
  });

  it('a token expired by only 10 s (within the clock-skew leeway)', async () => {
    await expectAccepted(await forge({ iat: now() - 910, exp: now() - 10 }));
  });
});

describe('missing or malformed Authorization header', () => {
  it('no header', async () => {
    await expectRejected({});
  });

  it('a non-Bearer scheme', async () => {
    await expectRejected({ authorization: `Token ${user.accessToken}` });
    await expectRejected({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
  });

  it('"Bearer" with no token', async () => {
    await expectRejected({ authorization: 'Bearer' });
    await expectRejected({ authorization: 'Bearer ' });
  });

  it('a token followed by junk, or characters outside the token alphabet', async () => {
    await expectRejected({ authorization: `Bearer ${user.accessToken} extra` });
    await expectRejected({ authorization: `Bearer ${user.accessToken};` });
    await expectRejected({ authorization: 'Bearer not a token' });
  });

  it('an over-long token', async () => {
    await expectRejected({ authorization: `Bearer ${'a'.repeat(5000)}` });
  });
});

describe('tokens that fail verification', () => {
  it('expired beyond the 30 s leeway', async () => {
    await expectRejected(bearer(await forge({ iat: now() - 960, exp: now() - 60 })));
    await expectRejected(bearer(await forge({ iat: now() - 936, exp: now() - 36 })));
  });

  it('a tampered payload (role changed to admin, original signature kept)', async () => {
    const [header, payload, signature] = user.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(claims.role).toBe('doctor');
    const tampered = `${header}.${b64json({ ...claims, role: 'admin' })}.${signature}`;
    await expectRejected(bearer(tampered));
    // The untampered original still works, so the rejection is due to the edit.
    await expectAccepted(user.accessToken);
  });

  it('a tampered header (alg switched) with the original signature', async () => {
    const [, payload, signature] = user.accessToken.split('.');
    const header = b64json({ alg: 'HS512', typ: 'at+jwt' });
    await expectRejected(bearer(`${header}.${payload}.${signature}`));
  });

  it('alg:none (unsigned token)', async () => {
    const header = b64json({ alg: 'none', typ: 'at+jwt' });
    const payload = b64json({
      sub: user.id,
      role: 'admin',
      sid,
      jti: randomUUID(),
      iss: 'medcore',
      aud: 'medcore-api',
      iat: now(),
      exp: now() + 900,
    });
    await expectRejected(bearer(`${header}.${payload}.`));
    await expectRejected(bearer(`${header}.${payload}`));
    // Same unsigned token with the real signature of another token pasted in.
    const signature = user.accessToken.split('.')[2] ?? '';
    await expectRejected(bearer(`${header}.${payload}.${signature}`));
  });

  it('a different HMAC algorithm with the same secret (HS512, HS384)', async () => {
    await expectRejected(bearer(await forge({ alg: 'HS512' })));
    await expectRejected(bearer(await forge({ alg: 'HS384' })));
  });

  it('signed with the wrong key', async () => {
    const wrong = new TextEncoder().encode('another-secret-that-is-long-enough-9876543210');
    await expectRejected(bearer(await forge({ secret: wrong })));
  });

  it('wrong or missing issuer', async () => {
    await expectRejected(bearer(await forge({ iss: 'evil' })));
    await expectRejected(bearer(await forge({ iss: 'medcore ' })));
    await expectRejected(bearer(await forge({ iss: null })));
  });

  it('wrong or missing audience', async () => {
    await expectRejected(bearer(await forge({ aud: 'medcore-admin' })));
    await expectRejected(bearer(await forge({ aud: null })));
  });

  it('wrong or missing typ', async () => {
    await expectRejected(bearer(await forge({ typ: 'JWT' })));
    await expectRejected(bearer(await forge({ typ: 'rt+jwt' })));
    await expectRejected(bearer(await forge({ typ: null })));
  });

  it('missing sid, jti, sub, role or exp claims', async () => {
    for (const claim of ['sid', 'jti', 'sub', 'role']) {
      await expectRejected(bearer(await forge({ omit: [claim] })));
    }
    await expectRejected(bearer(await forge({ exp: null })));
  });

  it('claims of the wrong type', async () => {
    await expectRejected(bearer(await forge({ claims: { sid: 42 } })));
    await expectRejected(bearer(await forge({ claims: { role: ['admin'] } })));
  });

  it('not a JWT at all', async () => {
    await expectRejected(bearer('abc'));
    await expectRejected(bearer('a.b.c'));
    await expectRejected(bearer(`${b64json({ alg: 'HS256' })}.${b64json('x')}.sig`));
  });
});

describe('valid signatures whose session does not back them', () => {
  it('a sid that names no session', async () => {
    await expectRejected(bearer(await forge({ claims: { sid: randomUUID() } })));
  });

  it('a sub that is not the session’s user (another user’s id)', async () => {
    await expectRejected(bearer(await forge({ claims: { sub: other.id } })));
    // The other user’s own session accepts the other user.
    const otherSid = decodeJwt(other.accessToken).sid as string;
    await expectAccepted(await forge({ claims: { sub: other.id, sid: otherSid } }), other.id);
  });

  it('a sub that names no user', async () => {
    await expectRejected(bearer(await forge({ claims: { sub: randomUUID() } })));
  });

  it('the role claim does not grant privileges: the role comes from the database', async () => {
    const token = await forge({ claims: { role: 'admin' } });
    const res = await me(bearer(token));
    expect(res.statusCode).toBe(200);
    expect(res.json<{ role: string }>().role).toBe('doctor');
  });

  it('the refresh token used as an access token', async () => {
    await expectRejected(bearer(user.refreshToken));
    await expectRejected(bearer(other.refreshToken));
  });

  it('an access token after its session was revoked by logout', async () => {
    const victim = await createUser(t.app, 'receptionist');
    await expectAccepted(victim.accessToken, victim.id);
    const logout = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(victim.accessToken),
    });
    expect(logout.statusCode).toBe(204);
    await expectRejected(bearer(victim.accessToken));
    // A freshly forged token for that session is refused too: revocation is per session.
    const victimSid = decodeJwt(victim.accessToken).sid as string;
    await expectRejected(
      bearer(await forge({ claims: { sub: victim.id, sid: victimSid, role: 'receptionist' } })),
    );
  });
});

describe('refresh-token families', () => {
  function refresh(refreshToken: string) {
    return t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: refreshToken },
    });
  }

  it('reuse after the grace revokes the family and its access tokens, and is audited', async () => {
    const victim = await createUser(t.app, 'nurse');
    const familySid = decodeJwt(victim.accessToken).sid as string;
    const otherSession = await login(t.app, victim.email, victim.password);
    const rotated = await refresh(victim.refreshToken);
    expect(rotated.statusCode).toBe(200);
    const next = rotated.json<TokenPairBody>();
    // Both access tokens of the family work before the reuse.
    await expectAccepted(victim.accessToken, victim.id);
    await expectAccepted(next.access_token, victim.id);

    clock.advance((t.config.refreshReuseGraceS + 1) * 1000);
    const reuse = await refresh(victim.refreshToken);
    expect(reuse.statusCode).toBe(401);
    expect(problemOf(reuse).code).toBe('invalid_token');

    const res = await me(bearer(victim.accessToken));
    expect(res.statusCode).toBe(401);
    expect((await me(bearer(next.access_token))).statusCode).toBe(401);
    expect((await refresh(next.refresh_token)).statusCode).toBe(401);
    // Only that family: the user's other session lives on.
    await expectAccepted(otherSession.access_token, victim.id);

    const rows = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'auth.refresh_reuse'), eq(auditLog.actorId, victim.id)));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      outcome: 'failure',
      resourceType: 'session',
      resourceId: familySid,
      details: { family_revoked: true },
    });
    expect(JSON.stringify(rows[0])).not.toContain(victim.refreshToken);
  });

  it('a replay within the grace is not reuse: same pair, family intact, audited as a refresh', async () => {
    const holder = await createUser(t.app);
    const first = await refresh(holder.refreshToken);
    const again = await refresh(holder.refreshToken);
    expect(again.json()).toEqual(first.json());
    await expectAccepted(first.json<TokenPairBody>().access_token, holder.id);
    const rows = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'auth.refresh'), eq(auditLog.actorId, holder.id)));
    expect(rows.map((r) => r.details?.grace_replay ?? false)).toEqual([false, true]);
    const reuse = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'auth.refresh_reuse'), eq(auditLog.actorId, holder.id)));
    expect(reuse).toHaveLength(0);
  });

  // PostgreSQL (TEST_DATABASE_URL) or, without it, PGlite in a data directory on disk: either
  // way a second process-like app opens the very database the first one wrote.
  it('revocation survives a restart on the same database', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'medcore-restart-'));
    const first = await buildTestApp({ DATA_DIR: dataDir });
    try {
      const revoked = await createUser(first.app, 'doctor');
      const kept = await createUser(first.app, 'doctor');
      const logout = await first.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(revoked.accessToken),
      });
      expect(logout.statusCode).toBe(204);
      await first.app.close();

      const second = await buildApp(first.config, { logger: false });
      try {
        const call = (token: string) =>
          second.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) });
        expect((await call(revoked.accessToken)).statusCode).toBe(401);
        const refreshRes = await second.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token: revoked.refreshToken },
        });
        expect(refreshRes.statusCode).toBe(401);
        // Control: a session that was not revoked still works after the restart.
        expect((await call(kept.accessToken)).statusCode).toBe(200);
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
