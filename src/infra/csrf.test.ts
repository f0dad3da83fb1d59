import { describe, expect, it } from 'vitest';
import { createCsrfTokens } from './csrf.js';

const secret = 'unit-test-secret-that-is-long-enough-0123456789';
const sessionA = '01a20000-0000-7000-8000-00000000000a';
const sessionB = '01a20000-0000-7000-8000-00000000000b';

describe('console CSRF tokens', () => {
  const csrf = createCsrfTokens(secret);

  it('are stable per session and match only their own session', () => {
    const token = csrf.forSession(sessionA);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrf.forSession(sessionA)).toBe(token);
    expect(csrf.matches(sessionA, token)).toBe(true);
    expect(csrf.matches(sessionB, token)).toBe(false);
    expect(csrf.matches(sessionB, csrf.forSession(sessionB))).toBe(true);
  });

  it('refuse a missing, truncated, padded or tampered token', () => {
    const token = csrf.forSession(sessionA);
    const tampered = (token.startsWith('A') ? 'B' : 'A') + token.slice(1);
    for (const bad of [undefined, '', token.slice(0, -1), `${token}x`, tampered]) {
      expect(csrf.matches(sessionA, bad), String(bad)).toBe(false);
    }
  });

  it('depend on the secret: another deployment (or a planted value) does not match', () => {
    const other = createCsrfTokens(`${secret}-other`);
    expect(other.matches(sessionA, csrf.forSession(sessionA))).toBe(false);
  });
});
