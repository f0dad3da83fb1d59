import type { Role } from '../db/schema/users.js';

/**
 * The permission table: the single place that says which role may do what (deny by default).
 * Routes declare one of these as their access level and services check it again on their first
 * line. Field-level rules (e.g. who sees medical fields) live next to the fields, named here.
 */
export const permissionTable = {
  /** Own profile and sessions: every authenticated account, guests included. */
  'self.manage': ['admin', 'doctor', 'nurse', 'receptionist', 'user', 'guest'],
  /** Active doctors list and their public profiles, for booking screens. */
  'doctors.read': ['admin', 'doctor', 'nurse', 'receptionist'],
  /** User administration: list, create, read, change, deactivate, unlock any account. */
  'users.manage': ['admin'],
  /** Patients' demographics and contacts (read and write); favourites, groups, stats, export. */
  'patients.manage': ['admin', 'doctor', 'nurse', 'receptionist'],
  /** Field-level: see medical_history, allergies and notes (absent from responses otherwise). */
  'patients.medical.read': ['admin', 'doctor', 'nurse'],
  /** Field-level: write medical_history, allergies and notes (403 otherwise). */
  'patients.medical.write': ['admin', 'doctor'],
  /** Visit notes: read and write. */
  'visit_notes.manage': ['admin', 'doctor', 'nurse'],
  /** Read every appointment; availability. */
  'appointments.read': ['admin', 'doctor', 'nurse', 'receptionist'],
  /** Book and change appointments; doctors only their own (checked in the service). */
  'appointments.write': ['admin', 'doctor', 'nurse', 'receptionist'],
  /** Read prescriptions. */
  'prescriptions.read': ['admin', 'doctor', 'nurse'],
  /** Who viewed or changed a patient's record: admins, and the assigned doctor (service check). */
  'patients.access_log.read': ['admin', 'doctor'],
  /** The audit trail and its verification. */
  'audit.read': ['admin'],
  /** Practice counts and system figures (admin dashboard). */
  'admin.stats': ['admin'],
  /** Prescribe: doctors only. */
  'prescriptions.create': ['doctor'],
  /** Edit, cancel, complete: the prescriber (a doctor) or an admin (checked in the service). */
  'prescriptions.write': ['admin', 'doctor'],
  /** Medical documents: list, read, download (non-clinical categories only, unless below). */
  'documents.read': ['admin', 'doctor', 'nurse', 'receptionist'],
  /** Row-level: read clinical categories (lab results, imaging, referrals, letters). */
  'documents.clinical.read': ['admin', 'doctor', 'nurse'],
  /** Upload and delete documents. */
  'documents.write': ['admin', 'doctor', 'nurse'],
  /** Status checks: read (guests included). */
  'status.read': ['admin', 'doctor', 'nurse', 'receptionist', 'user', 'guest'],
  /** Status checks: record one (every role but guest). */
  'status.write': ['admin', 'doctor', 'nurse', 'receptionist', 'user'],
  /** The caller's own assistant prompts: create, read, edit, delete (guests have none). */
  'prompts.own': ['admin', 'doctor', 'nurse', 'receptionist', 'user'],
  /** Read every user's prompts (`?all=true` / `?user_id=`, and any prompt by id). */
  'prompts.read_all': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissionTable;

/** What a route declares: open to anyone, or gated by one permission of the table. */
export type Access = 'public' | Permission;

export interface Principal {
  userId: string;
  role: Role;
  sessionId: string;
  /** Where the call came from, for the audit trail (absent for CLI and internal callers). */
  requestId?: string;
  ip?: string;
}

/** `is_superuser` implies admin everywhere; resolved once when the principal is built. */
export function effectiveRole(role: Role, isSuperuser: boolean): Role {
  return isSuperuser ? 'admin' : role;
}

export function can(role: Role, permission: Permission): boolean {
  return (permissionTable[permission] as readonly Role[]).includes(role);
}
