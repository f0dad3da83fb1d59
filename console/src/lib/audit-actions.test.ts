import { describe, expect, it } from 'vitest';
import { auditActions } from '../../../src/modules/audit/audit.actions';
import { AUDIT_ACTIONS, groupedActions, isAuditAction } from './audit-actions';

describe('the audit trail’s action list', () => {
  it('is exactly the server’s list of audit actions, in its order', () => {
    expect([...AUDIT_ACTIONS]).toEqual([...auditActions]);
  });

  it('puts every action in exactly one group', () => {
    const grouped = groupedActions().flatMap((entry) => entry.actions);
    expect(grouped.sort()).toEqual([...AUDIT_ACTIONS].sort());
    expect(groupedActions().find((entry) => entry.group === 'access')?.actions).toEqual([
      'access.denied',
    ]);
  });

  it('tells a known action from free text', () => {
    expect(isAuditAction('patient.read')).toBe(true);
    expect(isAuditAction('patient.reed')).toBe(false);
    expect(isAuditAction('')).toBe(false);
  });
});
