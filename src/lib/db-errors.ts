/** Reads the SQLSTATE of a database error, looking through Drizzle's wrapper (`cause`). */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

const unavailableMessages = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
];

/** True when the database could not be reached or answered too slowly: a 503, not a 500. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) {
    // 08: connection exception, 57P0x: server shutting down, 57014: statement timeout, 53: resources.
    return /^(08|57P0|53)/.test(state) || state === '57014';
  }
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const text = `${(current as { code?: string }).code ?? ''} ${current.message}`;
    if (unavailableMessages.some((needle) => text.includes(needle))) return true;
    current = current.cause;
  }
  return false;
}
