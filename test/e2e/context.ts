import { describe, inject } from 'vitest';

/** What global-setup.ts hands every e2e file. */
export interface Credentials {
  email: string;
  password: string;
}

export type E2eSetup =
  | {
      ready: true;
      baseUrl: string;
      chromium: string;
      /** The clinic's time zone (CLINIC_TIMEZONE), the browser's too. */
      timeZone: string;
      admin: Credentials;
    }
  | { ready: false; reason: string };

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eSetup;
  }
}

export const setup: E2eSetup = inject('e2e');

/** The server every e2e file talks to; only called inside a suite that runs. */
export function baseUrl(): string {
  if (!setup.ready) throw new Error(setup.reason);
  return setup.baseUrl;
}

export function clinicTimeZone(): string {
  if (!setup.ready) throw new Error(setup.reason);
  return setup.timeZone;
}

/**
 * `describe`, or, without a browser on this machine, a skipped suite whose name says why (as the
 * nginx and clamd tests do), so a fresh machine passes and the report tells what did not run.
 */
export function describeE2e(name: string, body: () => void): void {
  if (setup.ready) describe(name, body);
  else describe.skip(`${name} (skipped: ${setup.reason})`, body);
}
