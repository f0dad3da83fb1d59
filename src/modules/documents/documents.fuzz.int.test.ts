import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipart, newPatient, tempStorageDir } from '../../../test/documents-support.js';
import { bearer, buildTestApp, createUser, type TestApp } from '../../../test/helpers.js';

/*
 * The JSON fuzzer (test/fuzz.int.test.ts) cannot reach the upload route's form: this one builds
 * hostile multipart bodies (odd field names and values, NUL and control characters, hostile
 * file names, random bytes behind every magic number, several files, bodies cut short) and
 * checks what every route must do: no 5xx, every 4xx a problem+json, nothing slower than 2 s.
 * The seed is fixed so a failure replays.
 */

let t: TestApp;
let token: string;
let patientId: string;

beforeAll(async () => {
  t = await buildTestApp({ STORAGE_DIR: tempStorageDir(), DOCUMENT_MAX_BYTES: '65536' });
  token = (await createUser(t.app, 'doctor')).accessToken;
  patientId = await newPatient(t.app, token);
});
afterAll(async () => {
  await t.close();
});

const magic = fc.constantFrom(
  Buffer.from('%PDF-1.7\n'),
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  Buffer.from('plain text '),
  Buffer.from('MZ'),
  Buffer.alloc(0),
);
const fileBytes = fc.oneof(
  fc
    .tuple(magic, fc.uint8Array({ maxLength: 3_000 }))
    .map(([head, rest]) => Buffer.concat([head, Buffer.from(rest)])),
  // Real text, so that some uploads pass every check and reach storage and the database.
  fc.stringMatching(/^[a-z ]{1,300}$/).map((text) => Buffer.from(text)),
);
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('../../etc/passwd', 'C:\\boot.ini', '\u0000', 'a\r\nb', '"', '%00', '\u202e'),
);
const field = fc.tuple(
  fc.oneof(fc.constantFrom('category', 'description', 'file', '__proto__'), hostileText),
  fc.oneof(fc.constantFrom('lab_result', 'insurance', ''), hostileText),
);
const filePart = fc.record({
  filename: hostileText,
  content: fileBytes,
  contentType: fc.constantFrom('application/pdf', 'image/png', 'text/plain', 'x/y'),
  field: fc.constantFrom('file', 'file', 'attachment'),
});
const form = fc.record({
  fields: fc.oneof(
    fc.constant<[string, string][]>([['category', 'lab_result']]),
    fc.array(field, { maxLength: 4 }),
  ),
  files: fc.array(filePart, { maxLength: 2 }),
  cut: fc.oneof(fc.constant(0), fc.nat({ max: 200 })),
});

describe('POST /patients/{id}/documents under hostile multipart input', () => {
  it('never answers 5xx, answers every 4xx as problem+json, within 2 s', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(form, async ({ fields, files, cut }) => {
        const body = multipart(Object.fromEntries(fields), files);
        const payload = cut === 0 ? body.payload : body.payload.subarray(0, -cut);
        const started = Date.now();
        const res = await t.app.inject({
          method: 'POST',
          url: `/api/v1/patients/${patientId}/documents`,
          headers: { ...bearer(token), ...body.headers },
          payload,
        });
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(res.statusCode, res.body).toBeLessThan(500);
        if (res.statusCode >= 400) {
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        } else {
          accepted++;
        }
      }),
      { numRuns: 300, seed: 20261123 },
    );
    // The generator must reach the accepting path too, or it only tests the parser.
    expect(accepted).toBeGreaterThan(0);
  }, 120_000);
});
