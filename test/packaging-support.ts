import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The Dockerfile as data, for the checks that need no Docker daemon: the packaging test reads
 * its stages and instructions, and the multi-instance test runs the image's own start command
 * and health check on this machine.
 */
export const root = resolve(import.meta.dirname, '..');

export interface Instruction {
  keyword: string;
  /** The arguments as written (continuation lines joined). */
  args: string;
}

export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions grouped by stage (`FROM image AS name`), comments and continuations resolved. */
export function dockerfileStages(text = readFileSync(join(root, 'Dockerfile'), 'utf8')): Stage[] {
  const stages: Stage[] = [];
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    // Docker drops comment lines, also those inside a continued instruction.
    if (/^\s*#/.test(line)) continue;
    const continued = /\\\s*$/.test(line);
    pending += (pending === '' ? '' : ' ') + line.replace(/\\\s*$/, '').trim();
    if (!continued) {
      if (pending.trim() !== '') logical.push(pending.trim());
      pending = '';
    }
  }
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: from?.[1] ?? args, name: from?.[2], instructions: [] });
    } else if (upper !== 'ARG' || stages.length > 0) {
      stages.at(-1)?.instructions.push({ keyword: upper, args });
    }
  }
  return stages;
}

/** The value of a build argument's default (`ARG NAME=value` before the first FROM). */
export function dockerfileArg(name: string): string | undefined {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  return new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(text)?.[1];
}

/** An exec-form (JSON array) instruction argument, e.g. CMD ["node", "dist/cli.js", "serve"]. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`not an exec-form array: ${args}`);
  }
  return parsed;
}

/** The last stage: the image that is shipped. */
export function runtimeStage(): Stage {
  const stage = dockerfileStages().at(-1);
  if (!stage) throw new Error('the Dockerfile has no stage');
  return stage;
}

function only(stage: Stage, keyword: string): Instruction {
  const found = stage.instructions.filter((instruction) => instruction.keyword === keyword);
  if (found.length !== 1) throw new Error(`expected one ${keyword} in the runtime stage`);
  return found[0] as Instruction;
}

/** The image's start command: the runtime stage's CMD, e.g. ['node', 'dist/cli.js', 'serve']. */
export function imageCommand(): string[] {
  return execForm(only(runtimeStage(), 'CMD').args);
}

/** The image's HEALTHCHECK: its options and its exec-form command. */
export function imageHealthcheck(): { options: Record<string, string>; command: string[] } {
  const args = only(runtimeStage(), 'HEALTHCHECK').args;
  const match = /^((?:--[\w-]+=\S+\s+)*)CMD\s+(\[.*\])$/.exec(args);
  if (!match) throw new Error(`HEALTHCHECK is not "options CMD [exec form]": ${args}`);
  const options: Record<string, string> = {};
  for (const option of (match[1] ?? '').trim().split(/\s+/).filter(Boolean)) {
    const [key = '', value = ''] = option.replace(/^--/, '').split('=');
    options[key] = value;
  }
  return { options, command: execForm(match[2] ?? '[]') };
}
