import type { AppContext } from '../context.js';
import { roles, type Role } from '../db/schema/users.js';
import { randomToken } from '../lib/crypto.js';
import { createAccount, findAccountForLogin } from '../modules/users/users.service.js';

export interface SeededAccount {
  role: Role;
  email: string;
  password: string;
}

/**
 * One demo account per role, with random passwords printed once by the CLI. Re-running skips
 * accounts that already exist, so it never resets a password someone has changed.
 */
export async function seedStaff(
  ctx: Pick<AppContext, 'db'>,
  /** Told of each account as soon as it exists (the first run writes its password at once). */
  onAccount: (account: SeededAccount) => void = () => undefined,
): Promise<SeededAccount[]> {
  const created: SeededAccount[] = [];
  for (const role of roles) {
    const email = `${role}@demo.medcore.local`;
    if (await findAccountForLogin(ctx, email)) continue;
    const password = randomToken(12);
    await createAccount(
      ctx,
      {
        email,
        username: `demo_${role}`,
        password,
        full_name: `Demo ${role[0]?.toUpperCase() ?? ''}${role.slice(1)}`,
      },
      role,
    );
    const account: SeededAccount = { role, email, password };
    created.push(account);
    onAccount(account);
  }
  return created;
}
