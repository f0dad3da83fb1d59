import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chromiumArgs } from './browser.js';
import { root } from './server.js';

/**
 * The browser tests only count if CI has a browser and keeps what they leave: checked here
 * without running CI (a unit test: it reads files).
 */
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

describe('the e2e tests in CI', () => {
  it('.ci/run installs Debian chromium when missing, retrying after an apt-get update', () => {
    const script = read('.ci/run');
    expect(script).toContain('if [ ! -x /usr/bin/chromium ]; then');
    expect(script).toMatch(
      /apt-get install -y --no-install-recommends chromium \\\n\s+\|\| \{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \}/,
    );
    // Installing it must never fail the run: the tests skip and say so.
    expect(script).toContain('|| echo "chromium could not be installed');
  });

  it('the workflow gives the tests a browser and uploads artifacts/ even on failure', () => {
    const workflow = parse(read('.github/workflows/ci.yml')) as {
      jobs: Record<
        string,
        {
          steps?: {
            run?: string;
            uses?: string;
            if?: string;
            env?: Record<string, string>;
            with?: Record<string, string>;
          }[];
        }
      >;
    };
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps ?? []);
    const test = steps.find((step) => step.run === 'npm test');
    expect(test?.env?.CHROMIUM_PATH).toBeDefined();
    const upload = steps.find((step) => step.uses?.startsWith('actions/upload-artifact') === true);
    expect(upload?.if).toBe('always()');
    expect(upload?.with?.path).toBe('artifacts/');
  });

  it('Chromium runs headless, sandbox off, with every background connection off', () => {
    for (const flag of [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ]) {
      expect(chromiumArgs).toContain(flag);
    }
  });
});
