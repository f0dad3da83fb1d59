/**
 * The Account screen's logic, DOM-free: which session is this one, how sessions are listed, how
 * a TOTP secret is shown for typing, how a QR code is drawn.
 */

export interface SessionItem {
  id: string;
  created_at: string;
  last_used_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

/**
 * The `sid` claim of an access token (a JWT): the id of the session it belongs to, as
 * GET /auth/sessions lists it. Undefined for anything that is not a JWT with a string `sid`.
 * Only read, never trusted: the server decides what a token may do.
 */
export function sessionIdOf(token: string | undefined): string | undefined {
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    const json = new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json) as unknown;
    if (typeof claims !== 'object' || claims === null) return undefined;
    const sid = (claims as { sid?: unknown }).sid;
    return typeof sid === 'string' && sid !== '' ? sid : undefined;
  } catch {
    return undefined;
  }
}

/** This browser's session: the one the access token's `sid` names (or the server marks). */
export function isCurrentSession(item: SessionItem, sid: string | undefined): boolean {
  return sid === undefined ? item.current : item.id === sid;
}

/** This session first, then the most recently used. */
export function orderSessions<T extends SessionItem>(items: readonly T[], sid?: string): T[] {
  return [...items].sort((a, b) => {
    const current = Number(isCurrentSession(b, sid)) - Number(isCurrentSession(a, sid));
    if (current !== 0) return current;
    return b.last_used_at.localeCompare(a.last_used_at);
  });
}

/** A base32 secret in groups of four, easier to type into an authenticator app by hand. */
export function secretGroups(secret: string): string {
  return (secret.replace(/\s+/g, '').match(/.{1,4}/g) ?? []).join(' ');
}

/**
 * The dark modules of a QR code as one SVG path (a 1x1 square per module, in module units), so
 * the code is drawn without markup injection and scales crisply.
 */
export function qrPath(modules: readonly (readonly boolean[])[]): string {
  const parts: string[] = [];
  modules.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) parts.push(`M${x} ${y}h1v1h-1z`);
    });
  });
  return parts.join('');
}
