import type { paths } from '@medcore/client';

/** The `action` filter of GET /admin/audit, as the OpenAPI document lists it. */
export type AuditAction = NonNullable<
  NonNullable<paths['/api/v1/admin/audit']['get']['parameters']['query']>['action']
>;

/**
 * Every audit action the server records (src/modules/audit/audit.actions.ts), in its order, for
 * the audit trail's action filter. The OpenAPI enum only exists as a type, so the list is kept
 * here: `satisfies` refuses a name the API does not know, `Missing` below refuses to compile
 * while one is left out, and audit-actions.test.ts compares it with the server's own list.
 */
export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.mfa_verify',
  'auth.refresh',
  'auth.refresh_reuse',
  'auth.logout',
  'auth.logout_all',
  'auth.session_revoke',
  'auth.lockout',
  'auth.password_change',
  'auth.password_forgot',
  'auth.password_reset',
  'auth.mfa_setup',
  'auth.mfa_enable',
  'auth.mfa_disable',
  'auth.register',
  'user.create',
  'user.update',
  'user.deactivate',
  'user.unlock',
  'user.mfa_reset',
  'patient.list',
  'patient.read',
  'patient.create',
  'patient.update',
  'patient.delete',
  'patient.export',
  'patient.access_log',
  'patient.favorite',
  'visit_note.list',
  'visit_note.create',
  'appointment.list',
  'appointment.read',
  'appointment.create',
  'appointment.update',
  'appointment.transition',
  'appointment.outside_hours_override',
  'appointment.export',
  'appointment.subscribe',
  'appointment.reminder',
  'prescription.list',
  'prescription.read',
  'prescription.create',
  'prescription.update',
  'prescription.transition',
  'prescription.export',
  'document.list',
  'document.read',
  'document.download',
  'document.thumbnail',
  'document.create',
  'document.delete',
  'document.virus_found',
  'document.corrupt',
  'access.denied',
] as const satisfies readonly AuditAction[];

type Missing = Exclude<AuditAction, (typeof AUDIT_ACTIONS)[number]>;
/** Does not compile while an action of the API is missing from AUDIT_ACTIONS (`Missing` names it). */
export const AUDIT_ACTIONS_COMPLETE: [Missing] extends [never] ? true : Missing = true;

/** The groups the filter shows the actions in, by the part before the dot. */
export const AUDIT_GROUPS = [
  'auth',
  'user',
  'patient',
  'visit_note',
  'appointment',
  'prescription',
  'document',
  'access',
] as const;
export type AuditGroup = (typeof AUDIT_GROUPS)[number];

/** The actions of each group, in the server's order; a group with no action is left out. */
export function groupedActions(
  actions: readonly AuditAction[] = AUDIT_ACTIONS,
): { group: AuditGroup; actions: AuditAction[] }[] {
  return AUDIT_GROUPS.map((group) => ({
    group,
    actions: actions.filter((action) => action.slice(0, action.indexOf('.')) === group),
  })).filter((entry) => entry.actions.length > 0);
}

export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}
