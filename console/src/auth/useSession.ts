import { useSyncExternalStore } from 'react';
import { session } from '../api/client';
import type { Role, SessionState, SessionUser } from './session';

export function useSessionState(): SessionState {
  return useSyncExternalStore(session.subscribe, session.getState);
}

/** The signed-in user (screens behind the sign-in gate only). */
export function useUser(): SessionUser {
  const state = useSessionState();
  if (state.status !== 'signed-in') throw new Error('useUser outside a signed-in screen');
  return state.user;
}

/** Roles that may read medical fields (docs/API.md permission table): never a receptionist. */
export function canSeeMedical(role: Role): boolean {
  return role === 'admin' || role === 'doctor' || role === 'nurse';
}

/** Roles that may change medical fields. */
export function canEditMedical(role: Role): boolean {
  return role === 'admin' || role === 'doctor';
}

/** Roles that use the schedule screens (appointments rw or r). */
export function isStaff(role: Role): boolean {
  return role === 'admin' || role === 'doctor' || role === 'nurse' || role === 'receptionist';
}
