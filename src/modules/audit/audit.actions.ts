/**
 * Every kind of event the audit trail records. A closed list so that /admin/audit can filter by
 * it and a typo in a service is a compile error, not a silently unfindable row.
 */
export const auditActions = [
  // Auth events
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
  // Account administration
  'user.create',
  'user.update',
  'user.deactivate',
  'user.unlock',
  'user.mfa_reset',
  // Patient data
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
  // A booking or reschedule outside working hours let through by ?allow_outside_hours=true.
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
  // Refused by the permission table
  'access.denied',
] as const;

export type AuditAction = (typeof auditActions)[number];
