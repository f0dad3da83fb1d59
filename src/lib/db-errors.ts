/**
 * Reads the SQLSTATE of a database error, looking through Drizzle's wrapper (`cause`). No
 * SQLSTATE class starts with E, so Node's five-letter socket codes (EPIPE) are not taken for one.
 */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

// What node-postgres and Node's sockets say when the server is down, restarting, frozen or
// unreachable. Each of these means "try again later", never a bug in the request.
const unavailableMessages = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // "... unexpectedly" (server gone) and "... due to connection timeout" (frozen server).
  'Connection terminated',
  // Waiting for a free pooled connection took longer than DB_CONNECT_TIMEOUT_MS.
  'timeout exceeded when trying to connect',
  // No answer within DB_QUERY_TIMEOUT_MS.
  'Query read timeout',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  // Shutdown has closed the pool while a request was still running.
  'Cannot use a pool after calling end on the pool',
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
