/** How long check() waits for a backend: readiness probes must answer within a few seconds. */
export const checkTimeoutMs = 3_000;

/** A readiness failure that names the backend, keeping the SDK error as the cause. */
export function describeCheckFailure(backend: string, error: unknown): Error {
  const name = error instanceof Error ? error.name : '';
  const detail =
    name === 'TimeoutError' || name === 'AbortError'
      ? `did not answer within ${checkTimeoutMs / 1000} s`
      : `is unavailable (${error instanceof Error ? error.message : String(error)})`;
  return new Error(`${backend} ${detail}`, { cause: error });
}
