import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, problemOf, type PageBody } from '../../../test/helpers.js';
import {
  t,
  admin,
  doctor,
  nurse,
  receptionist,
  usePatientsApp,
  type NoteBody,
  newPatient,
} from './patients.test-support.js';

usePatientsApp();

describe('visit notes', () => {
  it('POST: 201 {id, content, visit_type, author_id, created_at}', async () => {
    const p = await newPatient();
    const res = await api(t.app).as(nurse).post(`/patients/${p.id}/notes`, {
      content: 'BP 120/80.\nNo complaints.',
      visit_type: 'follow_up',
    });
    expect(res.statusCode, res.body).toBe(201);
    const note = res.json<NoteBody>();
    expect(note).toMatchObject({
      content: 'BP 120/80.\nNo complaints.',
      visit_type: 'follow_up',
      author_id: nurse.id,
    });
    expect(note.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(note.created_at)).not.toBeNaN();
    for (const key of ['id', 'content', 'visit_type', 'author_id', 'created_at']) {
      expect(Object.keys(note)).toContain(key);
    }
  });

  it('GET: newest first, paginated, every note once', async () => {
    const p = await newPatient();
    const types = ['regular', 'follow_up', 'emergency', 'consultation', 'phone'];
    const written: NoteBody[] = [];
    for (const [i, visit_type] of types.entries()) {
      const author = i % 2 === 0 ? doctor : admin;
      const res = await api(t.app)
        .as(author)
        .post(`/patients/${p.id}/notes`, {
          content: `note ${i}`,
          visit_type,
        });
      expect(res.statusCode, res.body).toBe(201);
      written.push(res.json<NoteBody>());
    }
    // Another patient's note never shows up here.
    const other = await newPatient();
    await api(t.app).as(doctor).post(`/patients/${other.id}/notes`, {
      content: 'elsewhere',
      visit_type: 'video',
    });

    const all = await api(t.app).as(nurse).get(`/patients/${p.id}/notes`);
    expect(all.statusCode).toBe(200);
    const body = all.json<PageBody<NoteBody>>();
    expect(body.next_cursor).toBeNull();
    expect(body.items.map((n) => n.content)).toEqual([
      'note 4',
      'note 3',
      'note 2',
      'note 1',
      'note 0',
    ]);
    expect(body.items[4]).toMatchObject({ ...written[0] });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api(t.app)
        .as(doctor)
        .get(`/patients/${p.id}/notes?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<PageBody<NoteBody>>();
      seen.push(...page.items.map((n) => n.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(written.map((n) => n.id).reverse());

    const bad = await api(t.app).as(doctor).get(`/patients/${p.id}/notes?cursor=garbage`);
    expect(bad.statusCode).toBe(400);
  });

  it('refuses a bad visit_type, empty content or extra keys with 400', async () => {
    const p = await newPatient();
    for (const payload of [
      { content: 'x', visit_type: 'house_call' },
      { content: 'x' },
      { content: '', visit_type: 'regular' },
      { content: 'x', visit_type: 'regular', author_id: admin.id },
    ]) {
      const res = await api(t.app).as(doctor).post(`/patients/${p.id}/notes`, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(problemOf(res).code).toBe('validation_failed');
    }
    const list = await api(t.app).as(doctor).get(`/patients/${p.id}/notes`);
    expect(list.json<PageBody<NoteBody>>().items).toEqual([]);
  });

  it('404 for an unknown patient', async () => {
    const id = randomUUID();
    expect((await api(t.app).as(doctor).get(`/patients/${id}/notes`)).statusCode).toBe(404);
    const res = await api(t.app).as(doctor).post(`/patients/${id}/notes`, {
      content: 'x',
      visit_type: 'regular',
    });
    expect(res.statusCode).toBe(404);
    expect(problemOf(res).code).toBe('not_found');
  });

  it('receptionists may neither read nor write them (403)', async () => {
    const p = await newPatient();
    await api(t.app).as(doctor).post(`/patients/${p.id}/notes`, {
      content: 'clinical detail',
      visit_type: 'regular',
    });
    const read = await api(t.app).as(receptionist).get(`/patients/${p.id}/notes`);
    expect(read.statusCode).toBe(403);
    expect(read.body).not.toContain('clinical detail');
    const write = await api(t.app).as(receptionist).post(`/patients/${p.id}/notes`, {
      content: 'x',
      visit_type: 'regular',
    });
    expect(write.statusCode).toBe(403);
    expect(problemOf(write).code).toBe('forbidden');
  });
});
