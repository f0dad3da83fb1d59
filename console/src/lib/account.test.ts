import { describe, expect, it } from 'vitest';
import {
  isCurrentSession,
  orderSessions,
  qrPath,
  secretGroups,
  sessionIdOf,
  type SessionItem,
} from './account';

const base64url = (text: string) =>
  Buffer.from(text, 'utf8')
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const jwt = (claims: object) =>
  `${base64url('{"alg":"EdDSA"}')}.${base64url(JSON.stringify(claims))}.signature`;

const session = (id: string, lastUsed: string, current = false): SessionItem => ({
  id,
  created_at: '2026-12-01T08:00:00.000Z',
  last_used_at: lastUsed,
  ip: '127.0.0.1',
  user_agent: 'Chromium',
  current,
});

describe('sessionIdOf', () => {
  it('reads the sid claim of an access token', () => {
    const sid = '01938a8e-1111-7000-8000-000000000001';
    expect(sessionIdOf(jwt({ sub: 'u1', sid, name: 'Zoë ~~~ ?>' }))).toBe(sid);
  });

  it('is undefined for no token, a token without sid, or garbage', () => {
    expect(sessionIdOf(undefined)).toBeUndefined();
    expect(sessionIdOf(jwt({ sub: 'u1' }))).toBeUndefined();
    expect(sessionIdOf(jwt({ sid: 42 }))).toBeUndefined();
    expect(sessionIdOf('not-a-jwt')).toBeUndefined();
    expect(sessionIdOf('a.%%%.c')).toBeUndefined();
  });
});

describe('the current session', () => {
  it('is the one the token names, whatever the list says', () => {
    expect(isCurrentSession(session('a', '2026-12-01T09:00:00Z', false), 'a')).toBe(true);
    expect(isCurrentSession(session('b', '2026-12-01T09:00:00Z', true), 'a')).toBe(false);
  });

  it('falls back to the server’s mark without a token', () => {
    expect(isCurrentSession(session('b', '2026-12-01T09:00:00Z', true), undefined)).toBe(true);
  });

  it('comes first, the rest by last use, newest first', () => {
    const items = [
      session('old', '2026-12-01T08:00:00.000Z'),
      session('new', '2026-12-01T10:00:00.000Z'),
      session('me', '2026-12-01T07:00:00.000Z'),
    ];
    expect(orderSessions(items, 'me').map((item) => item.id)).toEqual(['me', 'new', 'old']);
  });
});

describe('showing a TOTP secret', () => {
  it('groups the secret by four characters', () => {
    expect(secretGroups('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP')).toBe(
      'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP',
    );
    expect(secretGroups('ABCDEF')).toBe('ABCD EF');
    expect(secretGroups('')).toBe('');
  });

  it('draws a square per dark module of a QR code', () => {
    expect(
      qrPath([
        [true, false],
        [false, true],
      ]),
    ).toBe('M0 0h1v1h-1zM1 1h1v1h-1z');
  });
});
