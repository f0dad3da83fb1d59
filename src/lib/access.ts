import { forbidden } from './errors.js';
import { can, type Permission, type Principal } from './permissions.js';

/** First line of every use case: refuse unless the actor's role holds the permission. */
export function requirePermission(actor: Principal, permission: Permission): void {
  if (!can(actor.role, permission)) {
    throw forbidden();
  }
}
