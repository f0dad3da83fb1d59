import { sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  bearer,
  buildTestApp,
  createUser,
  unique,
  type TestApp,
  type TokenPairBody,
} from './helpers.js';
import { onWorkingDay } from './working-hours.js';

/**
 * SECURITY.md: logs never contain passwords, tokens or patient fields. Canary values go through
 * the whole API (auth, MFA, password reset, patients, notes, appointments, prescriptions), on
 * success and failure paths (validation errors, 404, 409, 412, a database error), with logging
 * at trace level and the production log configuration; then every line is searched for them.
 */
const lines: string[] = [];
let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp(
    { LOG_LEVEL: 'trace' },
    { logger: undefined, logStream: { write: (line: string) => lines.push(line) } },
  );
});
afterAll(async () => {
  await t.close();
});

describe('logs', () => {
  it('never contain passwords or tokens, even at trace level', async () => {
    const password = `canary-password-${unique()}`;
    const newPassword = `canary-new-password-${unique()}`;
    const username = unique();
    const email = `${username}@example.test`;
    const canaries = [password, newPassword];
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email, username, password },
    });
    const pair = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password },
      })
    ).json<TokenPairBody>();
    canaries.push(pair.access_token, pair.refresh_token);
    const next = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: pair.refresh_token },
      })
    ).json<TokenPairBody>();
    canaries.push(next.access_token, next.refresh_token);
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password/change',
      headers: bearer(next.access_token),
      payload: { current_password: password, new_password: newPassword },
    });
    // A failing request with a secret in the body and a bad token in the header.
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: newPassword, extra: password },
    });
    await t.app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(pair.refresh_token),
    });

    const output = lines.join('');
    expect(lines.length).toBeGreaterThan(5);
    for (const canary of canaries) expect(output).not.toContain(canary);
  });

  it('never contain patient fields, MFA or reset secrets, on success and failure paths', async () => {
    const tag = unique('c').slice(1);
    const canaries: Record<string, string> = {};
    /** Registers a canary value under a label and returns it. */
    const canary = (label: string, value: string) => (canaries[label] = value);
    const admin = await createUser(t.app, 'admin');
    const doctor = await createUser(t.app, 'doctor');

    // --- a patient with every field a canary ---------------------------------------------
    const digits = String(1_000_000 + Math.floor(Math.random() * 8_999_999));
    const patient = {
      first_name: canary('first name', `Canfirst${tag}`),
      last_name: canary('last name', `Canlast${tag}`),
      date_of_birth: canary(
        'birth date',
        `19${String(10 + Math.floor(Math.random() * 80))}-0${String(1 + Math.floor(Math.random() * 9))}-1${String(Math.floor(Math.random() * 9))}`,
      ),
      email: canary('patient email', `canmail${tag}@example.test`),
      phone: canary('phone', `+1 (555) ${digits.slice(0, 3)}-${digits.slice(3)}`),
      address: canary('address', `${tag} Canary Lane 7, Springfield`),
      location: canary('location', `Canloc${tag}`),
      emergency_contacts: [
        {
          name: canary('emergency contact', `Canemer${tag}`),
          relationship: 'sister',
          phone: canary('emergency phone', `+44 20 ${digits} 9`),
        },
      ],
      initial_complaint: canary('complaint', `Cancomplaint${tag} since Monday`),
      initial_diagnosis: canary('diagnosis', `Candiagnosis${tag}`),
      medical_history: canary('medical history', `Canhistory${tag}\nsecond line`),
      allergies: [canary('allergy', `Canallergy${tag}`)],
      notes: canary('patient notes', `Cannotes${tag}`),
    };
    canaries['phone digits'] = `555${digits}`;
    const created = await api(t.app).as(admin).post('/patients', patient);
    expect(created.statusCode, created.body).toBe(201);
    const patientId = created.json<{ id: string }>().id;
    // Reads, searches with a canary in the query string, the export.
    await api(t.app).as(admin).get(`/patients/${patientId}`);
    await api(t.app).as(admin).get(`/patients?q=${patient.first_name}`);
    await api(t.app)
      .as(admin)
      .get(`/patients?q=${encodeURIComponent(patient.last_name)}&limit=5`);
    await api(t.app).as(admin).get(`/patients?date_of_birth=${patient.date_of_birth}`);
    await api(t.app).as(admin).get(`/users?q=${patient.first_name}`);
    await api(t.app).as(admin).get('/patients/export.csv');
    // Failure paths: 409 duplicate person, 412 stale If-Match, 404 with a canary query,
    // validation errors on canary values, unknown canary keys, broken JSON around canaries.
    expect((await api(t.app).as(admin).post('/patients', patient)).statusCode).toBe(409);
    const stale = await api(t.app)
      .as(admin)
      .patch(
        `/patients/${patientId}`,
        { address: canary('stale address', `${tag} Stale Road 1`) },
        { headers: { 'if-match': '"v999"' } },
      );
    expect(stale.statusCode).toBe(412);
    const updated = await api(t.app)
      .as(admin)
      .patch(
        `/patients/${patientId}`,
        { notes: canary('updated notes', `Canupdated${tag}`) },
        { headers: { 'if-match': '"v1"' } },
      );
    expect(updated.statusCode, updated.body).toBe(200);
    await api(t.app)
      .as(admin)
      .get(`/patients/01a20000-0000-7000-8000-000000000000?q=${patient.first_name}`);
    await api(t.app).as(admin).get(`/patients/${patient.last_name}`);
    for (const bad of [
      { ...patient, email: canary('bad email', `Canbademail${tag}`) },
      { ...patient, phone: canary('bad phone', `Canbadphone${tag}`) },
      { ...patient, first_name: `${canary('nul name', `Cannul${tag}`)}\u0000` },
      { ...patient, date_of_birth: canary('bad date', `Canbaddate${tag}`) },
      { ...patient, [canary('unknown key', `Cankey${tag}`)]: 1 },
    ]) {
      expect((await api(t.app).as(admin).post('/patients', bad)).statusCode).toBe(400);
    }
    // A string is sent as it is: broken JSON on purpose.
    const broken = await api(t.app)
      .as(admin)
      .post('/patients', `{"first_name":"${canary('broken json', `Canbroken${tag}`)}",`, {
        headers: { 'content-type': 'application/json' },
      });
    expect(broken.statusCode).toBe(400);

    // --- visit notes, appointments, prescriptions ---------------------------------------
    const note = await api(t.app)
      .as(admin)
      .post(`/patients/${patientId}/notes`, {
        content: canary('visit note', `Canvisit${tag} patient reports`),
        visit_type: 'regular',
      });
    expect(note.statusCode, note.body).toBe(201);
    await api(t.app).as(admin).get(`/patients/${patientId}/notes`);
    const startsAt = new Date(onWorkingDay(3, 10));
    const booking = {
      patient_id: patientId,
      doctor_id: doctor.id,
      starts_at: startsAt.toISOString(),
      reason: canary('appointment reason', `Canreason${tag}`),
      notes: canary('appointment notes', `Canapptnotes${tag}`),
    };
    const appointment = await api(t.app).as(admin).post('/appointments', booking);
    expect(appointment.statusCode, appointment.body).toBe(201);
    const appointmentId = appointment.json<{ id: string }>().id;
    expect((await api(t.app).as(admin).post('/appointments', booking)).statusCode).toBe(409);
    await api(t.app)
      .as(admin)
      .patch(
        `/appointments/${appointmentId}`,
        { reason: canary('stale reason', `Canstalereason${tag}`) },
        { headers: { 'if-match': '"v999"' } },
      );
    await api(t.app)
      .as(admin)
      .post(`/appointments/${appointmentId}/cancel`, {
        reason: canary('cancel reason', `Cancancel${tag}`),
      });
    await api(t.app).as(admin).get(`/appointments/${appointmentId}.ics`);
    const prescription = await api(t.app)
      .as(doctor)
      .post('/prescriptions', {
        patient_id: patientId,
        medication: canary('medication', `Canmed${tag}`),
        dosage: canary('dosage', `Candose${tag}`),
        frequency: 'twice daily',
        instructions: canary('instructions', `Caninstr${tag} with food`),
      });
    expect(prescription.statusCode, prescription.body).toBe(201);
    const prescriptionId = prescription.json<{ id: string }>().id;
    await api(t.app).as(doctor).get(`/prescriptions/${prescriptionId}/pdf`);
    await api(t.app)
      .as(doctor)
      .patch(
        `/prescriptions/${prescriptionId}`,
        { instructions: canary('stale instructions', `Canstaleinstr${tag}`) },
        { headers: { 'if-match': '"v999"' } },
      );
    await api(t.app)
      .as(doctor)
      .post(`/prescriptions/${prescriptionId}/cancel`, {
        reason: canary('prescription cancel', `Canrxcancel${tag}`),
      });

    // --- accounts: admin-set passwords, failed logins, the OAuth2 form -------------------
    const staffPassword = canary('staff password', `Canstaff ${tag} passphrase`);
    const staff = await api(t.app)
      .as(admin)
      .post('/users', {
        email: canary('staff email', `canstaff${tag}@example.test`),
        username: `canstaff${tag}`,
        password: staffPassword,
        role: 'nurse',
      });
    expect(staff.statusCode, staff.body).toBe(201);
    const staffId = staff.json<{ id: string }>().id;
    await api(t.app)
      .as(admin)
      .patch(`/users/${staffId}`, {
        password: canary('admin-set password', `Canreset ${tag} by admin`),
      });
    await api(t.app).post('/auth/login', {
      email: `canstaff${tag}@example.test`,
      password: canary('wrong password', `Canwrong ${tag}`),
    });
    await api(t.app).post('/auth/login', {
      email: canary('unknown email', `canunknown${tag}@example.test`),
      password: canary('unknown password', `Canunknownpw ${tag}`),
    });
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=password&username=canstaff${tag}&password=${encodeURIComponent(
        canary('form password', `Canform ${tag}`),
      )}`,
    });

    // --- MFA: secret, codes, backup codes, the challenge token ---------------------------
    const mfaUser = await createUser(t.app, 'doctor');
    // A wrong password first: the refusal must not log what was typed either.
    await api(t.app)
      .as(mfaUser)
      .post('/auth/mfa/totp/setup', {
        password: canary('setup wrong password', `Cansetup ${tag}`),
      });
    const setup = await api(t.app).as(mfaUser).post('/auth/mfa/totp/setup', {
      password: mfaUser.password,
    });
    expect(setup.statusCode, setup.body).toBe(200);
    const { secret, otpauth_uri } = setup.json<{ secret: string; otpauth_uri: string }>();
    canary('totp secret', secret);
    canary('otpauth uri', otpauth_uri);
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    // Six digits could match inside a timestamp; a leaked code would be a quoted JSON value.
    canary('totp code', `"${code}"`);
    const enable = await api(t.app).as(mfaUser).post('/auth/mfa/totp/enable', {
      code,
    });
    expect(enable.statusCode, enable.body).toBe(200);
    const backup = enable.json<{ backup_codes: string[] }>().backup_codes;
    backup.forEach((c, i) => canary(`backup code ${i}`, c));
    const challenge = await api(t.app).post('/auth/login', {
      email: mfaUser.email,
      password: mfaUser.password,
    });
    const mfaToken = canary('mfa token', challenge.json<{ mfa_token: string }>().mfa_token);
    const wrong = `"${String((Number(code) + 1) % 1_000_000).padStart(6, '0')}"`;
    canary('wrong totp code', wrong);
    await api(t.app).post('/auth/mfa/verify', {
      mfa_token: mfaToken,
      code: wrong.slice(1, -1),
    });
    const verified = await api(t.app).post('/auth/mfa/verify', {
      mfa_token: mfaToken,
      code: backup[0],
    });
    expect(verified.statusCode, verified.body).toBe(200);
    const pair = verified.json<TokenPairBody>();
    canary('mfa access token', pair.access_token);
    canary('mfa refresh token', pair.refresh_token);
    await api(t.app).as(pair.access_token).post('/auth/mfa/totp/disable', {
      password: mfaUser.password,
      code: backup[1],
    });

    // --- password reset: the emailed token and the new password --------------------------
    const resetUser = await createUser(t.app, 'user');
    await api(t.app).post('/auth/password/forgot', { email: resetUser.email });
    await api(t.app).post('/auth/password/forgot', {
      email: canary('forgot unknown email', `canforgot${tag}@example.test`),
    });
    await t.app.ctx.background.drain();
    const mail = t.app.ctx.mailer.sent.filter((m) => m.to.includes(resetUser.email)).at(-1);
    const resetToken = /token=([A-Za-z0-9_-]{20,})/.exec(mail?.text ?? '')?.[1];
    expect(resetToken, 'a reset link was mailed').toBeDefined();
    canary('reset token', resetToken ?? '');
    const newPassword = canary('reset password', `Canfresh ${tag} start`);
    const reset = await api(t.app).post('/auth/password/reset', {
      token: resetToken,
      new_password: newPassword,
    });
    expect(reset.statusCode, reset.body).toBe(204);
    await api(t.app).post('/auth/password/reset', {
      token: resetToken,
      new_password: canary('reset password again', `Canagain ${tag} start`),
    });

    // --- a database error: Drizzle puts the bound values in the error it throws ----------
    await t.app.ctx.db.execute(
      sql.raw(`create or replace function canary_refuse() returns trigger language plpgsql as $$
        begin
          if new.last_name like 'Boom%' then raise exception 'canary trigger refused the row'; end if;
          return new;
        end $$`),
    );
    await t.app.ctx.db.execute(
      sql.raw(
        'create trigger canary_refuse before insert on patients for each row execute function canary_refuse()',
      ),
    );
    const failed = await api(t.app)
      .as(admin)
      .post('/patients', {
        ...patient,
        last_name: canary('last name in a failed insert', `Boom${tag}`),
        email: canary('email in a failed insert', `canboom${tag}@example.test`),
      });
    expect(failed.statusCode).toBe(500);
    const errorLine = lines.find((line) => line.includes('canary trigger refused the row'));
    expect(errorLine, 'the database error was logged').toBeDefined();

    // Case-insensitive, and also as it would appear inside a JSON string (escaped newlines).
    const output = lines.join('\n').toLowerCase();
    const leaks = Object.entries(canaries)
      .filter(([, value]) =>
        [value, JSON.stringify(value).slice(1, -1)].some(
          (form) => form !== '' && output.includes(form.toLowerCase()),
        ),
      )
      .map(([label]) => label);
    expect(Object.keys(canaries).length).toBeGreaterThan(40);
    expect(leaks).toEqual([]);
  });

  it('write one line per request with request id, route, status, duration and user id', async () => {
    const username = unique();
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: `${username}@example.test`, username, password: 'a sturdy passphrase 42' },
    });
    const pair = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: 'a sturdy passphrase 42' },
      })
    ).json<TokenPairBody>();
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: { ...bearer(pair.access_token), 'x-request-id': `trace-${unique()}` },
    });
    const requestId = res.headers['x-request-id'];
    const userId = res.json<{ id: string }>().id;
    const entries = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.reqId === requestId && entry.msg === 'request completed');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      method: 'GET',
      route: '/api/v1/users/me',
      status: 200,
      user_id: userId,
    });
    expect(typeof entries[0]?.duration_ms).toBe('number');
  });
});
