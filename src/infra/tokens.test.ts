import { createHmac, createSecretKey, randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenSigner, verifyAccessToken } from './tokens.js';

const secret = 'unit-test-secret-that-is-long-enough-0123456789';
const key = createSecretKey(Buffer.from(secret, 'utf8'));
const issuer = 'medcore';
const audience = 'medcore-api';
const signer = createTokenSigner({ secret, issuer, audience, accessTtlS: 900 });
const now = () => Math.floor(Date.now() / 1000);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

interface Forge {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  omit?: string[];
  secret?: string;
}

const baseClaims = () => ({
  sub: randomUUID(),
  sid: randomUUID(),
  jti: randomUUID(),
  role: 'doctor',
  iss: issuer,
  aud: audience,
  iat: now(),
  exp: now() + 900,
});

/** A token signed like the server's (jose, HS256), except for what the options change. */
async function forge(options: Forge = {}): Promise<string> {
  const omit = new Set(options.omit ?? []);
  const payload = Object.fromEntries(
    Object.entries({ ...baseClaims(), ...options.claims }).filter(([name]) => !omit.has(name)),
  ) as JWTPayload;
  const header = { alg: 'HS256', typ: 'at+jwt', ...options.header } as { alg: string };
  return new SignJWT(payload)
    .setProtectedHeader(header)
    .sign(new TextEncoder().encode(options.secret ?? secret));
}

/** Signs any header and payload by hand (jose refuses to sign some of the headers tested). */
function signRaw(header: unknown, payload: unknown): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function verify(token: string) {
  return signer.verifyAccess(token);
}

describe('verifyAccess (synchronous HS256)', () => {
  it('accepts the signer’s own token and returns its claims', async () => {
    const token = await signer.signAccess({ sub: 'user-1', sid: 'session-1', role: 'nurse' });
    const claims = verify(token);
    expect(claims).toMatchObject({ sub: 'user-1', sid: 'session-1', role: 'nurse' });
    expect(typeof claims?.jti).toBe('string');
    // The hand signer signs as jose does (the control for the tests that use it).
    expect(verify(signRaw({ alg: 'HS256', typ: 'at+jwt' }, baseClaims()))).not.toBeNull();
  });

  it('accepts what jose’s jwtVerify accepts for the same options (control)', async () => {
    const token = await forge();
    await expect(
      jwtVerify(token, key, { algorithms: ['HS256'], issuer, audience, typ: 'at+jwt' }),
    ).resolves.toBeDefined();
    expect(verify(token)).not.toBeNull();
    // An audience list that holds ours is a valid aud (RFC 7519), as jose read it.
    expect(verify(await forge({ claims: { aud: ['other', audience] } }))).not.toBeNull();
  });

  it('refuses a tampered payload, header or signature', async () => {
    const token = await forge();
    const [header = '', payload = '', signature = ''] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as object;
    expect(verify(`${header}.${b64({ ...claims, role: 'admin' })}.${signature}`)).toBeNull();
    expect(
      verify(`${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'x' })}.${payload}.${signature}`),
    ).toBeNull();
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1) ?? ''}`;
    expect(verify(`${header}.${payload}.${flipped}`)).toBeNull();
    expect(
      verify(await forge({ secret: 'another-secret-that-is-long-enough-9876543210' })),
    ).toBeNull();
    expect(verify(token)).not.toBeNull();
  });

  it('refuses another algorithm, in the header or by signing with it', async () => {
    const token = await forge();
    const [, payload = '', signature = ''] = token.split('.');
    for (const alg of ['HS512', 'HS384', 'RS256', 'hs256', 'none', '']) {
      expect(verify(`${b64({ alg, typ: 'at+jwt' })}.${payload}.${signature}`), alg).toBeNull();
    }
    expect(verify(await forge({ header: { alg: 'HS512' } }))).toBeNull();
    expect(verify(await forge({ header: { alg: 'HS384' } }))).toBeNull();
  });

  it('refuses alg none, signed or not', async () => {
    const payload = b64(baseClaims());
    const header = b64({ alg: 'none', typ: 'at+jwt' });
    expect(verify(`${header}.${payload}.`)).toBeNull();
    expect(verify(`${header}.${payload}`)).toBeNull();
    const signature = (await forge()).split('.')[2] ?? '';
    expect(verify(`${header}.${payload}.${signature}`)).toBeNull();
  });

  it('refuses a token expired beyond the 30 s leeway, and accepts one within it', async () => {
    expect(verify(await forge({ claims: { iat: now() - 960, exp: now() - 31 } }))).toBeNull();
    expect(verify(await forge({ claims: { iat: now() - 960, exp: now() - 300 } }))).toBeNull();
    expect(verify(await forge({ claims: { iat: now() - 930, exp: now() - 25 } }))).not.toBeNull();
    // At a given instant: exp must be later than now - 30.
    const token = await forge({ claims: { iat: 1_000, exp: 2_000 } });
    const at = (t: number) => verifyAccessToken(token, { key, issuer, audience, now: t });
    expect(at(2_029)).not.toBeNull();
    expect(at(2_030)).toBeNull();
  });

  it('refuses an iat far in the future and an nbf not reached yet', async () => {
    expect(verify(await forge({ claims: { iat: now() + 120 } }))).toBeNull();
    expect(verify(await forge({ claims: { nbf: now() + 120 } }))).toBeNull();
    expect(verify(await forge({ claims: { nbf: now() - 5 } }))).not.toBeNull();
    expect(verify(await forge({ claims: { nbf: 'now' } }))).toBeNull();
  });

  it('refuses a wrong or missing issuer or audience', async () => {
    for (const claims of [
      { iss: 'evil' },
      { iss: 'medcore ' },
      { iss: ['medcore'] },
      { aud: 'medcore-admin' },
      { aud: ['medcore-admin'] },
      { aud: 42 },
    ]) {
      expect(verify(await forge({ claims })), JSON.stringify(claims)).toBeNull();
    }
    expect(verify(await forge({ omit: ['iss'] }))).toBeNull();
    expect(verify(await forge({ omit: ['aud'] }))).toBeNull();
  });

  it('refuses a token missing any required claim, or with one of the wrong type', async () => {
    for (const claim of ['sub', 'sid', 'jti', 'iat', 'exp', 'role']) {
      expect(verify(await forge({ omit: [claim] })), claim).toBeNull();
    }
    for (const claims of [
      { sub: 42 },
      { sid: 42 },
      { jti: null },
      { role: ['admin'] },
      { exp: String(now() + 900) },
      { iat: String(now()) },
    ]) {
      expect(verify(await forge({ claims })), JSON.stringify(claims)).toBeNull();
    }
  });

  it('refuses a refresh-typed token, a missing typ and an unknown critical extension', async () => {
    expect(verify(await forge({ header: { typ: 'rt+jwt' } }))).toBeNull();
    expect(verify(await forge({ header: { typ: 'JWT' } }))).toBeNull();
    expect(verify(await forge({ header: { typ: undefined } }))).toBeNull();
    expect(
      verify(signRaw({ alg: 'HS256', typ: 'at+jwt', crit: ['exp'] }, baseClaims())),
    ).toBeNull();
    // Our opaque refresh tokens are not JWTs at all.
    expect(verify('9f2cKq0pZ1l3dD5c7uQm1o8bX4wA6sE2rT9yH0nJ3kL')).toBeNull();
  });

  it('refuses malformed tokens: parts, base64url, JSON, oversize', async () => {
    const token = await forge();
    const [header = '', payload = '', signature = ''] = token.split('.');
    for (const bad of [
      '',
      'abc',
      'a.b.c',
      `${header}.${payload}`,
      `${header}.${payload}.${signature}.extra`,
      `${header}.${payload}.${signature}=`,
      `${header}.${payload}!.${signature}`,
      `${b64('not an object')}.${payload}.${signature}`,
      `${b64([1, 2])}.${payload}.${signature}`,
      `${Buffer.from('{"alg":').toString('base64url')}.${payload}.${signature}`,
      `${header}.${Buffer.from('{"sub":').toString('base64url')}.${signature}`,
      `${token}${'A'.repeat(5000)}`,
    ]) {
      expect(verify(bad), bad.slice(0, 60)).toBeNull();
    }
    // A valid signature over a payload that is not a JSON object is still refused.
    const arrayPayload = b64(['sub']);
    const signed = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(new TextEncoder().encode(secret));
    const [signedHeader = ''] = signed.split('.');
    expect(verify(`${signedHeader}.${arrayPayload}.${signature}`)).toBeNull();
  });
});
