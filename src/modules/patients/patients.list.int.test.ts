import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, createUser, problemOf, type PageBody, unique } from '../../../test/helpers.js';
import type { PatientDto } from './patients.schemas.js';
import {
  t,
  admin,
  doctor,
  nurse,
  receptionist,
  usePatientsApp,
  medicalKeys,
  newPatient,
  newGroup,
  uniquePhone,
  getPatient,
  listPage,
  walk,
  stats,
  groupCount,
  exportCsv,
} from './patients.test-support.js';

usePatientsApp();

describe('GET /patients (search and filters)', () => {
  it('q matches by name, email, phone and MRN (case-insensitive)', async () => {
    const last = unique('Searchy');
    const email = `${unique('mail')}@example.test`;
    const phone = uniquePhone();
    const p = await newPatient({ first_name: 'Quentin', last_name: last, email, phone });
    const other = await newPatient();

    for (const q of [
      last,
      last.toUpperCase(),
      `Quentin ${last}`,
      email,
      email.split('@')[0] ?? '',
      phone,
      p.mrn,
      p.mrn.toLowerCase(),
    ]) {
      const page = await listPage(`q=${encodeURIComponent(q)}`);
      const ids = page.items.map((i) => i.id);
      expect(ids, q).toContain(p.id);
      expect(ids, q).not.toContain(other.id);
      expect(ids[0], q).toBe(p.id);
    }
  });

  it('q tolerates a typo and ranks the closest name first', async () => {
    const group = newGroup('typo');
    const target = await newPatient({ first_name: 'Jan', last_name: 'Kowalczyk', group });
    await newPatient({ first_name: 'Piotr', last_name: 'Kowalski', group });
    const unrelated = await newPatient({ first_name: 'Ewa', last_name: 'Nowak', group });

    const page = await listPage(`q=Kowalcyzk&group=${group}`);
    expect(page.items[0]?.id).toBe(target.id);
    expect(page.items.map((i) => i.id)).not.toContain(unrelated.id);

    const swapped = await listPage(`q=${encodeURIComponent('jan kowalcyk')}&group=${group}`);
    expect(swapped.items[0]?.id).toBe(target.id);

    const nothing = await listPage(`q=zzqqxxvv&group=${group}`);
    expect(nothing).toEqual({ items: [], next_cursor: null });
  });

  it('q treats % and _ literally', async () => {
    const group = newGroup('lit');
    await newPatient({ group, last_name: 'Plain' });
    const page = await listPage(`q=${encodeURIComponent('%')}&group=${group}`);
    expect(page.items).toEqual([]);
  });

  it('filters by group, assigned_doctor_id and date_of_birth, combined', async () => {
    const group = newGroup('flt');
    const myDoctor = await createUser(t.app, 'doctor');
    const a = await newPatient({
      group,
      assigned_doctor_id: myDoctor.id,
      date_of_birth: '1970-01-02',
    });
    const b = await newPatient({ group, assigned_doctor_id: myDoctor.id });
    const c = await newPatient({ group, date_of_birth: '1970-01-02' });
    const elsewhere = await newPatient({ assigned_doctor_id: myDoctor.id });

    const ids = async (query: string) => (await walk(query, 100)).items.map((p) => p.id).sort();

    expect(await ids(`group=${group}`)).toEqual([a.id, b.id, c.id].sort());
    expect(await ids(`assigned_doctor_id=${myDoctor.id}`)).toEqual(
      [a.id, b.id, elsewhere.id].sort(),
    );
    expect(await ids(`group=${group}&date_of_birth=1970-01-02`)).toEqual([a.id, c.id].sort());
    expect(
      await ids(`group=${group}&date_of_birth=1970-01-02&assigned_doctor_id=${myDoctor.id}`),
    ).toEqual([a.id]);
    expect(await ids(`assigned_doctor_id=${randomUUID()}`)).toEqual([]);
  });

  it('rejects invalid filters and unknown parameters with 400', async () => {
    for (const query of [
      'group=Not A Slug',
      'date_of_birth=yesterday',
      'assigned_doctor_id=nope',
      'sort=relevance',
      'sort=email',
      'limit=0',
      'limit=101',
      'favorites_only=maybe',
      'colour=blue',
    ]) {
      const res = await api(t.app).as(admin).get(`/patients?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(problemOf(res).code, query).toBe('validation_failed');
    }
  });
});

describe('GET /patients (keyset pagination)', () => {
  /** Seven patients in one group, some sharing a last name, created one after another. */
  async function seedGroup() {
    const group = newGroup('page');
    const stem = `Zq${unique('').replace(/[0-9]/g, (d) => String.fromCharCode(97 + Number(d)))}`;
    const names: [string, string][] = [
      ['Carl', `${stem}beta`],
      ['Anna', `${stem}alpha`],
      ['Bert', `${stem}alpha`],
      ['Anna', `${stem}alpha`],
      ['Dora', `${stem}gamma`],
      ['Eve', stem],
      ['Fred', `${stem}delta`],
    ];
    const created: PatientDto[] = [];
    for (const [first_name, last_name] of names) {
      created.push(
        await newPatient(
          { first_name, last_name, group },
          admin.accessToken,
          '?allow_duplicate=true',
        ),
      );
    }
    return { group, stem, created };
  }

  function expectWalkedOnce(items: PatientDto[], created: PatientDto[]) {
    const ids = items.map((p) => p.id);
    expect(new Set(ids).size, 'no duplicates across pages').toBe(ids.length);
    expect([...ids].sort()).toEqual(created.map((p) => p.id).sort());
  }

  it('sort=name walks every row exactly once, by last name, first name', async () => {
    const { group, created } = await seedGroup();
    for (const limit of [1, 2, 3]) {
      const { items, pages } = await walk(`group=${group}&sort=name`, limit);
      expectWalkedOnce(items, created);
      expect(pages).toBe(Math.ceil(created.length / limit));
      const keys = items.map((p) => `${p.last_name}\u0000${p.first_name}`);
      expect(keys).toEqual([...keys].sort());
    }
    // Default sort without q is name.
    const dflt = await walk(`group=${group}`, 2);
    expect(dflt.items.map((p) => p.id)).toEqual(
      (await walk(`group=${group}&sort=name`, 7)).items.map((p) => p.id),
    );
  });

  it('sort=created_at walks every row exactly once, oldest first', async () => {
    const { group, created } = await seedGroup();
    for (const limit of [1, 2, 3]) {
      const { items } = await walk(`group=${group}&sort=created_at`, limit);
      expectWalkedOnce(items, created);
      expect(items.map((p) => p.id)).toEqual(created.map((p) => p.id));
    }
  });

  it('sort=-created_at walks every row exactly once, newest first', async () => {
    const { group, created } = await seedGroup();
    for (const limit of [1, 2, 3]) {
      const { items } = await walk(`group=${group}&sort=-created_at`, limit);
      expectWalkedOnce(items, created);
      expect(items.map((p) => p.id)).toEqual(created.map((p) => p.id).reverse());
    }
  });

  it('relevance (q without sort) walks every match exactly once, best first', async () => {
    const { group, stem, created } = await seedGroup();
    const all = await walk(`group=${group}&q=${stem}`, 100);
    expectWalkedOnce(all.items, created);
    // The exact surname is the closest match.
    expect(all.items[0]?.last_name).toBe(stem);
    for (const limit of [1, 2, 3]) {
      const { items } = await walk(`group=${group}&q=${stem}`, limit);
      expectWalkedOnce(items, created);
      expect(items.map((p) => p.id)).toEqual(all.items.map((p) => p.id));
    }
  });

  it('next_cursor is null on the last page and on an exactly full page', async () => {
    const { group } = await seedGroup();
    const full = await listPage(`group=${group}&limit=7`);
    expect(full.items).toHaveLength(7);
    expect(full.next_cursor).toBeNull();
    const first = await listPage(`group=${group}&limit=5`);
    expect(first.next_cursor).toEqual(expect.any(String));
    const last = await listPage(`group=${group}&limit=5&cursor=${first.next_cursor}`);
    expect(last.items).toHaveLength(2);
    expect(last.next_cursor).toBeNull();
  });

  it('a garbage or mismatched cursor is a 400, never a 500', async () => {
    const { group } = await seedGroup();
    const nameCursor = (await listPage(`group=${group}&limit=2&sort=name`)).next_cursor ?? '';
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      'garbage',
      '!!!',
      b64('just a string'),
      b64({ c: 'not a date', id: randomUUID() }),
      b64({ c: new Date().toISOString(), id: 'not-a-uuid' }),
      b64({ r: 'NaN?', id: randomUUID() }),
    ]) {
      const res = await api(t.app)
        .as(admin)
        .get(`/patients?group=${group}&sort=created_at&cursor=${encodeURIComponent(cursor)}`);
      expect(res.statusCode, cursor).toBe(400);
      expect(problemOf(res).code).toBe('validation_failed');
    }
    // A name cursor does not fit the created_at or relevance order.
    for (const query of [`sort=created_at`, `q=abc`]) {
      const res = await api(t.app)
        .as(admin)
        .get(`/patients?group=${group}&${query}&cursor=${nameCursor}`);
      expect(res.statusCode, query).toBe(400);
    }
  });
});

describe('GET /patients/groups and /patients/stats', () => {
  it('groups lists every group in use with its count', async () => {
    const group = newGroup('grp');
    expect(await groupCount(group)).toBeUndefined();
    await newPatient({ group });
    await newPatient({ group });
    await newPatient({ group });
    const res = await api(t.app).as(nurse).get('/patients/groups');
    expect(res.statusCode).toBe(200);
    const body = res.json<PageBody<{ group: string; count: number }>>();
    expect(body.next_cursor).toBeNull();
    expect(body.items).toContainEqual({ group, count: 3 });
    expect(body.items.some((g) => g.group === 'general')).toBe(true);
    const names = body.items.map((g) => g.group);
    expect(new Set(names).size).toBe(names.length);
  });

  it('stats: totals, the caller’s favourites and per-group counts move with the data', async () => {
    const me = await createUser(t.app, 'receptionist');
    const group = newGroup('st');
    const before = await stats(me.accessToken);
    expect(before.favorite_patients).toBe(0);
    expect(before.groups.find((g) => g.group === group)).toBeUndefined();

    const a = await newPatient({ group });
    const b = await newPatient({ group });
    await api(t.app).as(me).put(`/patients/${a.id}/favorite`);
    // Someone else's favourite is not mine.
    await api(t.app).as(admin).put(`/patients/${b.id}/favorite`);

    const after = await stats(me.accessToken);
    expect(after.total_patients - before.total_patients).toBe(2);
    expect(after.favorite_patients).toBe(1);
    expect(after.groups).toContainEqual({ group, count: 2 });

    await api(t.app).as(admin).delete(`/patients/${b.id}`);
    const last = await stats(me.accessToken);
    expect(last.total_patients - after.total_patients).toBe(-1);
    expect(last.groups).toContainEqual({ group, count: 1 });
  });
});

describe('GET /patients/export.csv', () => {
  it('streams a CSV attachment with medical columns for a doctor', async () => {
    const p = await newPatient(
      {
        first_name: 'Csv',
        last_name: unique('Export'),
        email: `${unique('csv')}@example.test`,
        group: 'oncology',
        address: 'Main St 1, "Flat" 2',
        medical_history: 'line one\nline two',
        allergies: ['Latex', 'penicillin'],
        notes: 'n',
        reminders_opt_out: true,
      },
      doctor.accessToken,
    );
    const { res, header, byId } = await exportCsv(doctor.accessToken);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="[^"]+\.csv"$/);
    expect(header).toEqual(
      expect.arrayContaining(['id', 'mrn', 'first_name', 'last_name', 'email', 'group']),
    );
    for (const key of medicalKeys) expect(header).toContain(key);
    expect(byId(p.id)).toMatchObject({
      mrn: p.mrn,
      first_name: 'Csv',
      last_name: p.last_name,
      email: p.email,
      group: 'oncology',
      address: 'Main St 1, "Flat" 2',
      medical_history: 'line one\nline two',
      allergies: 'latex; penicillin',
      notes: 'n',
      reminders_opt_out: 'true',
    });
  });

  it('leaves the medical columns out for a receptionist', async () => {
    const secret = unique('secret');
    const p = await newPatient({ medical_history: secret }, doctor.accessToken);
    const { header, byId, res } = await exportCsv(receptionist.accessToken);
    for (const key of medicalKeys) expect(header).not.toContain(key);
    expect(byId(p.id)).toMatchObject({ mrn: p.mrn, last_name: p.last_name });
    expect(res.body).not.toContain(secret);
  });

  it('neutralizes spreadsheet formulas with a leading quote', async () => {
    const formulas = ['=HYPERLINK("http://evil.test","click")', '+1+1', '-2+3', '@SUM(A1)'];
    const created = [];
    for (const first_name of formulas) {
      created.push(await newPatient({ first_name, last_name: unique('Formula') }));
    }
    const { byId } = await exportCsv(admin.accessToken);
    for (const [i, p] of created.entries()) {
      expect(byId(p.id)?.first_name).toBe(`'${formulas[i]}`);
    }
    // The stored value itself is unchanged.
    expect((await getPatient(created[0]?.id ?? '')).first_name).toBe(formulas[0]);
  });
});
