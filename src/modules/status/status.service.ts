import type { AppContext } from '../../context.js';
import type { StatusCheckRow } from '../../db/schema/status.js';
import { requirePermission } from '../../lib/access.js';
import { newId } from '../../lib/ids.js';
import { pageById } from '../../lib/pagination.js';
import type { Principal } from '../../lib/permissions.js';
import * as repo from './status.repository.js';
import type {
  CreateStatusCheckInput,
  ListStatusChecksQueryInput,
  StatusCheckDto,
} from './status.schemas.js';

export function toStatusCheckDto(row: StatusCheckRow): StatusCheckDto {
  return { id: row.id, client_name: row.clientName, timestamp: row.timestamp.toISOString() };
}

/** Records a client's status check (every role but guest). Not patient data: not audited. */
export async function recordStatusCheck(
  ctx: Pick<AppContext, 'db' | 'clock'>,
  actor: Principal,
  input: CreateStatusCheckInput,
): Promise<StatusCheckDto> {
  requirePermission(actor, 'status.write');
  const row = await repo.insertStatusCheck(ctx.db, {
    id: newId(),
    clientName: input.client_name,
    timestamp: ctx.clock.now(),
  });
  return toStatusCheckDto(row);
}

/** Status checks, newest first, keyset-paginated. */
export async function listStatusChecks(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  query: ListStatusChecksQueryInput,
) {
  requirePermission(actor, 'status.read');
  const page = await pageById(query, (beforeId, limit) =>
    repo.listStatusChecks(ctx.db, { beforeId, limit }),
  );
  return { items: page.items.map(toStatusCheckDto), next_cursor: page.next_cursor };
}
