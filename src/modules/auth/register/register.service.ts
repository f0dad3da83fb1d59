import type { AppContext, RequestMeta } from '../../../context.js';
import { forbidden } from '../../../lib/errors.js';
import { recordAudit } from '../../audit/audit.service.js';
import type { RegisterInput } from '../../users/users.schemas.js';
import * as users from '../../users/users.service.js';
import { toUserDto } from '../../users/users.mapper.js';
import { whoAt } from '../auth.audit.js';

/** Self-registration: new accounts get the `user` role, which has no patient access. */
export async function register(
  ctx: Pick<AppContext, 'db' | 'config'>,
  input: RegisterInput,
  meta: RequestMeta,
) {
  if (ctx.config.registrationMode === 'closed') {
    throw forbidden('Self-registration is closed; ask an administrator');
  }
  const row = await users.createAccount(ctx, input, 'user', (tx, created) =>
    recordAudit(tx, whoAt(meta, created), {
      action: 'auth.register',
      resourceType: 'user',
      resourceId: created.id,
    }),
  );
  return toUserDto(row);
}
