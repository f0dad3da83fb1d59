import { Type, type Static } from 'typebox';
import { auditOutcomes } from '../../db/schema/audit.js';
import {
  Page,
  PageQuery,
  StrictObject,
  Timestamp,
  Uuid,
  DateTimeInput,
  Nullable,
} from '../../lib/schema.js';
import { auditActions } from './audit.actions.js';

export const AuditQuery = StrictObject({
  actor_id: Type.Optional(Uuid),
  patient_id: Type.Optional(Uuid),
  action: Type.Optional(Type.Union(auditActions.map((action) => Type.Literal(action)))),
  outcome: Type.Optional(Type.Union(auditOutcomes.map((outcome) => Type.Literal(outcome)))),
  from: Type.Optional(DateTimeInput),
  to: Type.Optional(DateTimeInput),
  ...PageQuery,
});
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditEntry = Type.Object({
  seq: Type.Integer(),
  at: Timestamp,
  actor_id: Nullable(Type.String()),
  actor_role: Nullable(Type.String()),
  action: Type.String(),
  resource_type: Nullable(Type.String()),
  resource_id: Nullable(Type.String()),
  patient_id: Nullable(Type.String()),
  patient_ids: Type.Array(Type.String()),
  outcome: Type.String(),
  request_id: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  prev_hash: Type.String({ description: 'Empty until the row is sealed into the chain' }),
  hash: Type.String({ description: 'Empty until the row is sealed into the chain' }),
});
export const AuditPage = Page(AuditEntry);

export const AuditVerification = Type.Object({
  ok: Type.Boolean(),
  rows_checked: Type.Integer({ description: 'Sealed rows checked' }),
  pending_rows: Type.Integer({
    description: 'Committed rows not yet sealed (an older transaction may still be open)',
  }),
  first_broken_seq: Nullable(Type.Integer()),
  reason: Nullable(Type.String({ description: 'hash_mismatch (row changed) or chain_break' })),
  verified_at: Timestamp,
});

export const AccessLogEntry = Type.Object({
  at: Timestamp,
  actor_id: Nullable(Type.String()),
  actor_role: Nullable(Type.String()),
  actor_name: Nullable(Type.String()),
  action: Type.String(),
  outcome: Type.String(),
  request_id: Nullable(Type.String()),
});
export const AccessLogPage = Page(AccessLogEntry);
