import { describe, expect, it } from 'vitest';
import { problemOf } from '../../../../test/helpers.js';
import { enrol, t, useMfaApp } from './mfa.test-support.js';

useMfaApp();

describe("Swagger UI's OAuth2 password form with an MFA account", () => {
  it('is refused with a 400 that sends the caller to the JSON login, not a challenge', async () => {
    const user = await enrol();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'Basic Og==',
      },
      payload: `grant_type=password&username=${encodeURIComponent(user.email)}&password=${encodeURIComponent(user.password)}&scope=`,
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).not.toHaveProperty('mfa_token');
    expect(problemOf(res).detail).toMatch(/two-factor.*\/api\/v1\/auth\/mfa\/verify/);
  });
});
