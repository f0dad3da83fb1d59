import { appendFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SeededAccount } from './staff.js';

/**
 * DATA_DIR/demo-accounts.txt: the demo accounts' passwords, one `role email password` line per
 * account, readable by this user only (0600). The way back to them after the first start's
 * output has scrolled away; accounts created later are appended. None for `memory://`.
 */
export function demoAccountsFile(dataDir: string): string | undefined {
  return dataDir.startsWith('memory://') ? undefined : resolve(join(dataDir, 'demo-accounts.txt'));
}

export function recordDemoAccounts(
  dataDir: string,
  accounts: readonly SeededAccount[],
): string | undefined {
  const file = demoAccountsFile(dataDir);
  if (file === undefined || accounts.length === 0) return file;
  mkdirSync(resolve(dataDir), { recursive: true });
  const lines = accounts.map((a) => `${a.role} ${a.email} ${a.password}\n`).join('');
  appendFileSync(file, lines, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
