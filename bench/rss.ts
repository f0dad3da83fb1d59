/**
 * Resident memory of a server's whole process tree (Linux /proc): the process itself (all its
 * threads, so a worker thread is included) plus every descendant process, because the embedded
 * database may run in a child process. Pages shared between processes are counted once per
 * process, so the sum can overstate a forked tree slightly; it never misses a process.
 */
import { readFileSync, readdirSync } from 'node:fs';

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // the process or thread ended between listing and reading
  }
}

/** VmRSS of one process in bytes (0 if it is gone). */
function processRss(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readOrEmpty(`/proc/${pid}/status`));
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

/** Direct children of a process: the union of its threads' children lists. */
function childPids(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((task) =>
    readOrEmpty(`/proc/${pid}/task/${task}/children`)
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number),
  );
}

/** Sum of VmRSS over `pid` and all its descendants, in bytes. */
export function treeRss(pid: number): number {
  let total = 0;
  const seen = new Set<number>();
  // Bounded walk: a process tree of a benchmark server has a handful of members.
  const queue = [pid];
  while (queue.length > 0 && seen.size < 1_000) {
    const next = queue.shift() ?? 0;
    if (seen.has(next)) continue;
    seen.add(next);
    total += processRss(next);
    queue.push(...childPids(next));
  }
  return total;
}

/** Samples treeRss(pid) on a timer; peaks are read (and reset) per measured stretch. */
export class RssSampler {
  private peak = 0;
  private overall = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => {
      this.sample();
    }, intervalMs);
    this.timer.unref();
    this.sample();
  }

  private sample(): void {
    const rss = treeRss(this.pid);
    this.peak = Math.max(this.peak, rss);
    this.overall = Math.max(this.overall, rss);
  }

  /** The peak since the last call (sampled once more now, so a short stretch is not missed). */
  takePeak(): number {
    this.sample();
    const peak = this.peak;
    this.peak = 0;
    return peak;
  }

  /** The peak since the sampler started. */
  overallPeak(): number {
    this.sample();
    return this.overall;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);
