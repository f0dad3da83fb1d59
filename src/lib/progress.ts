import cliProgress from 'cli-progress';

/** Progress of a long CLI job (backup, restore, data generation), reported on stderr. */
export interface Progress {
  /** Adds `n` (default 1) units of work done. */
  increment(n?: number): void;
  /** Ends the report: a final line, and the bar (if any) is released. Safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  /** What is being done, e.g. "backup"; starts each plain line. */
  label: string;
  /** Units of work expected (rows, bytes); 0 or less means unknown. */
  total: number;
  /** What one unit is, for plain lines: "rows", "bytes". */
  unit?: string;
  /** Defaults to process.stderr; tests pass their own. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Forces the plain-line form even on a TTY (quiet terminals, tests). */
  plain?: boolean;
}

/**
 * A bar on a terminal; plain lines otherwise, so logs and CI output stay readable: one line per
 * 10% of the total (or every `total`-less 100,000 units), and a last line with the elapsed time.
 * Stderr, because stdout carries a command's result (tools may pipe it).
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const total = Math.max(0, options.total);
  const unit = options.unit ?? 'rows';
  const started = Date.now();
  if (stream.isTTY === true && options.plain !== true && total > 0) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${options.label} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted}`,
        hideCursor: true,
        // A job may run for minutes; redraw at most ten times a second, whatever the rate.
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    let stopped = false;
    return {
      increment: (n = 1) => {
        bar.increment(n);
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        bar.stop();
      },
    };
  }
  let done = 0;
  let nextMark = 1;
  let stopped = false;
  const step = total > 0 ? total / 10 : 100_000;
  const write = (line: string) => stream.write(`${options.label}: ${line}\n`);
  return {
    increment(n = 1) {
      done += n;
      if (done < nextMark * step) return;
      // One line per call, however many marks a big step crossed.
      const mark = Math.floor(done / step);
      if (total > 0 && mark >= 10) return; // the last line is stop()'s
      write(total > 0 ? `${mark * 10}% (${done}/${total} ${unit})` : `${done} ${unit}`);
      nextMark = mark + 1;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      write(`done, ${done} ${unit} in ${seconds} s`);
    },
  };
}
