/**
 * Uploads are streamed, not buffered (issue 6): the server's resident memory while it receives a
 * 10 MB file, against its resident memory at rest measured in the same run, and 20 parallel
 * 10 MB uploads (no 5xx). The server runs as a separate process on a fresh embedded database;
 * its RSS is sampled every 5 ms from /proc.
 *
 *   npm run build && npx tsx bench/upload.ts
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openAsBlob, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { median, postJson, startServer } from './server.js';

const MB = 1_048_576;
const work = mkdtempSync(join(tmpdir(), 'medcore-upload-bench-'));
const dataDir = join(work, 'data');
const admin = { email: 'upload-bench@bench.medcore.local', password: 'upload bench passphrase' };
const created = spawnSync(
  process.execPath,
  ['dist/cli.js', 'create-admin', '--email', admin.email, '--password', admin.password],
  { env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, encoding: 'utf8' },
);
if (created.status !== 0) throw new Error(`create-admin failed: ${created.stderr}`);

/** Files of exactly 10 MB: plain text (validated as it streams) and a PDF-headed blob. */
const textFile = join(work, 'ten.txt');
const line = 'Haemoglobin 13.5 g/dL, ferritin 80 ug/L, potassium 4.1 mmol/L, all within range.\n';
writeFileSync(textFile, line.repeat(Math.ceil((10 * MB) / line.length)).slice(0, 10 * MB));
const pdfFile = join(work, 'ten.pdf');
writeFileSync(pdfFile, Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(10 * MB - 9)]));

// A photo-sized JPEG of noise (it compresses badly, so ~10 MB holds ~11 megapixels). Images are
// the exception to streaming: libvips needs the whole file, and decodes it to re-encode it.
const jpegFile = join(work, 'ten.jpg');
const side = 3_300;
writeFileSync(
  jpegFile,
  await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 92 })
    .toBuffer(),
);

const server = await startServer(18_105, {
  DATA_DIR: dataDir,
  DOCUMENT_QUOTA_BYTES: '0',
  DOCUMENT_MAX_BYTES: String(10 * MB),
});

function rssBytes(): number {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

/** Peak RSS while `work` runs. */
async function peakDuring<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssBytes();
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes());
  }, 5);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, rssBytes()) };
  } finally {
    clearInterval(timer);
  }
}

try {
  const login = await postJson(`${server.url}/api/v1/auth/login`, admin);
  const { access_token } = (await login.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${access_token}` };
  const patient = await fetch(`${server.url}/api/v1/patients`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ first_name: 'Bench', last_name: 'Upload' }),
  });
  const { id: patientId } = (await patient.json()) as { id: string };

  async function upload(path: string, name: string): Promise<number> {
    const form = new FormData();
    form.set('category', 'lab_result');
    form.set('file', await openAsBlob(path), name);
    const res = await fetch(`${server.url}/api/v1/patients/${patientId}/documents`, {
      method: 'POST',
      headers: auth,
      body: form,
    });
    const body = await res.text();
    if (res.status >= 400) console.error(`  ${name}: ${res.status} ${body}`);
    return res.status;
  }

  // Warm up (JIT, pools, first PDF parse), then let the heap settle before the baseline.
  for (let i = 0; i < 3; i++) await upload(textFile, 'warm.txt');
  await upload(pdfFile, 'warm.pdf');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const atRest = rssBytes();
  console.log(`server RSS at rest: ${(atRest / MB).toFixed(1)} MB`);

  // RSS also holds garbage V8 has not collected yet (Buffers are freed only by a GC), so each
  // kind is measured from a settled server: 3 s idle, then one upload; five rounds, the median.
  for (const [label, path] of [
    ['10 MB text', textFile],
    ['10 MB PDF', pdfFile],
    [`${(statSync(jpegFile).size / MB).toFixed(1)} MB JPEG`, jpegFile],
  ] as const) {
    const growths: number[] = [];
    const times: number[] = [];
    for (let run = 0; run < 5; run++) {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const before = rssBytes();
      const started = performance.now();
      const { result: status, peak } = await peakDuring(() => upload(path, label));
      times.push(performance.now() - started);
      if (status !== 201) throw new Error(`${label}: ${status}`);
      growths.push(peak - before);
    }
    const growth = median(growths);
    console.log(
      `${label.padEnd(11)} median ${median(times).toFixed(0)} ms, RSS growth median ` +
        `${(growth / MB).toFixed(1)} MB, max ${(Math.max(...growths) / MB).toFixed(1)} MB ` +
        `(${(growth / statSync(path).size).toFixed(2)}x the file; limit 30 MB)`,
    );
  }

  const started = performance.now();
  const { result: statuses, peak } = await peakDuring(() =>
    Promise.all(Array.from({ length: 20 }, (_, i) => upload(textFile, `parallel-${i}.txt`))),
  );
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  console.log(
    `20 parallel 10 MB uploads: ${JSON.stringify(counts)} in ${(performance.now() - started).toFixed(0)} ms, ` +
      `peak RSS growth ${((peak - atRest) / MB).toFixed(1)} MB (${((peak - atRest) / (200 * MB)).toFixed(2)}x the 200 MB sent)`,
  );
  if (statuses.some((status) => status >= 500)) process.exitCode = 1;
  // Garbage or retention? A second batch, then the RSS once the server has been idle.
  await Promise.all(Array.from({ length: 20 }, (_, i) => upload(textFile, `again-${i}.txt`)));
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  console.log(
    `after a second batch and 10 s idle: RSS ${(rssBytes() / MB).toFixed(1)} MB ` +
      `(${((rssBytes() - atRest) / MB).toFixed(1)} MB above the start)`,
  );
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
