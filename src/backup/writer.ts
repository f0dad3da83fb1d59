import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ControlLine } from './format.js';

/**
 * Writes backup lines: gzip'd, hashed as they go, into `<file>.partial`, renamed to `<file>` only
 * once the trailer is written and flushed. A failed or interrupted backup never leaves a file
 * under the name the operator asked for. Mode 0600: the file is the whole practice's data.
 */
export class BackupWriter {
  private readonly hash = createHash('sha256');
  private readonly gzip = createGzip({ level: 6 });
  private readonly done: Promise<void>;
  private pending: string[] = [];
  private pendingChars = 0;
  private lines = 0;

  constructor(private readonly file: string) {
    this.done = pipeline(this.gzip, createWriteStream(this.partial, { mode: 0o600 }));
    // Surfaced by flush() or finish(); without this an early failure would be unhandled.
    this.done.catch(() => undefined);
  }

  private get partial(): string {
    return `${this.file}.partial`;
  }

  /** Queues a line (control object, row array or base64 string). */
  async write(line: ControlLine | unknown[] | string): Promise<void> {
    const text = JSON.stringify(line) + '\n';
    this.pending.push(text);
    this.pendingChars += text.length;
    this.lines += 1;
    // Batched: one hash update and one gzip write per ~1 MiB instead of per row.
    if (this.pendingChars >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingChars = 0;
    this.hash.update(chunk);
    if (!this.gzip.write(chunk)) {
      await Promise.race([once(this.gzip, 'drain'), this.done]);
    }
  }

  /** Writes the trailer, closes the file and moves it into place; returns bytes written. */
  async finish(): Promise<void> {
    await this.flush();
    const end: ControlLine = { t: 'end', lines: this.lines, sha256: this.hash.digest('hex') };
    this.gzip.end(JSON.stringify(end) + '\n');
    await this.done;
    await rename(this.partial, this.file);
  }

  /** Gives up: the partial file is removed. */
  async abort(): Promise<void> {
    this.gzip.destroy();
    await this.done.catch(() => undefined);
    await rm(this.partial, { force: true });
  }
}
