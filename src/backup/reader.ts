import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { BACKUP_FORMAT, BACKUP_VERSION, BackupError, type BackupHeader } from './format.js';

export type BackupLine = unknown;

function corrupt(file: string, why: string, cause?: unknown): BackupError {
  return new BackupError(
    `${file} is damaged or not a MedCore backup (${why}); nothing was restored`,
    cause === undefined ? undefined : { cause },
  );
}

/** Decompressed text lines of a file; gzip and read errors become BackupError. */
async function* textLines(
  file: string,
  onBytes?: (n: number) => void,
): AsyncGenerator<string, void, undefined> {
  const input = createReadStream(file);
  if (onBytes) {
    input.on('data', (chunk) => {
      onBytes(chunk.length);
    });
  }
  const gunzip = input.pipe(createGunzip());
  // pipe() does not forward read errors (a missing file) to the gunzip stream.
  input.on('error', (error) => gunzip.destroy(error));
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      const text = rest + decoder.write(chunk);
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      yield* parts;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BackupError(`${file} does not exist`, { cause: error });
    }
    throw corrupt(file, (error as Error).message, error);
  } finally {
    input.destroy();
  }
  rest += decoder.end();
  if (rest !== '') throw corrupt(file, 'it does not end with a complete line');
}

/**
 * Every line of a backup but the trailer, parsed, in order. The SHA-256 over everything before
 * the trailer is checked when the trailer is reached, so a caller that must not act on a damaged
 * file either reads it through once first (restore does), or keeps its work undone until this
 * generator has finished without throwing.
 */
export async function* readBackup(
  file: string,
  onBytes?: (n: number) => void,
): AsyncGenerator<BackupLine, void, undefined> {
  const hash = createHash('sha256');
  let count = 0;
  let trailer: { lines?: unknown; sha256?: unknown } | undefined;
  for await (const text of textLines(file, onBytes)) {
    if (trailer !== undefined) throw corrupt(file, 'lines follow the end marker');
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch (error) {
      throw corrupt(file, `line ${count + 1} is not JSON`, error);
    }
    if (count === 0) checkHeader(file, line);
    if (isObject(line) && line.t === 'end') {
      trailer = line;
      continue;
    }
    hash.update(text);
    hash.update('\n');
    count += 1;
    yield line;
  }
  if (trailer === undefined) throw corrupt(file, 'it is truncated: the end marker is missing');
  if (trailer.lines !== count || trailer.sha256 !== hash.digest('hex')) {
    throw corrupt(file, 'its SHA-256 checksum does not match');
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Refuses a file that is not a MedCore backup, or one written by a newer MedCore (its format may
 * mean things this build cannot know), before anything else is read.
 */
function checkHeader(file: string, line: unknown): asserts line is BackupHeader {
  if (!isObject(line) || line.t !== 'header' || line.format !== BACKUP_FORMAT) {
    throw corrupt(file, 'it has no MedCore backup header');
  }
  const version = line.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw corrupt(file, 'its format version is unreadable');
  }
  if (version > BACKUP_VERSION) {
    throw new BackupError(
      `${file} is in backup format version ${version}, newer than this MedCore ` +
        `(${String(line.app_version)} wrote it; this build reads up to version ${BACKUP_VERSION}). ` +
        'Restore it with that MedCore version or newer; nothing was restored.',
    );
  }
}

/** The header alone (first line), checked; the rest of the file is not read. */
export async function readHeader(file: string): Promise<BackupHeader> {
  for await (const text of textLines(file)) {
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch (error) {
      throw corrupt(file, 'its first line is not JSON', error);
    }
    checkHeader(file, line);
    return line;
  }
  throw corrupt(file, 'it is empty');
}
