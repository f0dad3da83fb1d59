import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { jobDatabaseOptions, openDatabase } from '../db/client.js';
import { systemClock } from '../lib/clock.js';
import { createAccount, findAccountForLogin } from '../modules/users/users.service.js';
import { recordDemoAccounts } from '../seed/accounts-file.js';
import { seedDemoPractice } from '../seed/demo.js';
import { seedStaff, type SeededAccount } from '../seed/staff.js';
import { checkAccount } from './account-rules.js';
import { readPassword } from './password-prompt.js';
import { UsageError } from './usage.js';

/**
 * What the commands' use cases take: a migrated database, the clock and the configuration (the
 * clinic's working hours for demo bookings). Nothing here signs
 * tokens, seals MFA secrets, sends mail or stores documents, so none of those is built. Beside
 * a running server on the same embedded DATA_DIR, the database is the server's, reached
 * through its socket (db/embedded/running-server.ts): what a command writes, the API serves.
 */
type CommandContext = Pick<AppContext, 'db' | 'clock' | 'config'>;

async function withContext<T>(
  config: Config,
  run: (ctx: CommandContext) => Promise<T>,
): Promise<T> {
  // Commands are jobs (seeding thousands of rows), not requests: the long timeouts apply.
  const database = await openDatabase(jobDatabaseOptions(config));
  try {
    await database.migrate();
    return await run({ db: database.db, clock: systemClock, config });
  } finally {
    await database.close();
  }
}

export async function migrateCommand(config: Config): Promise<number> {
  const database = await openDatabase(jobDatabaseOptions(config));
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
  console.log(`migrations applied (${database.kind})`);
  return 0;
}

function printAccounts(config: Config, accounts: SeededAccount[], noneMessage: string): void {
  if (accounts.length === 0) {
    console.log(noneMessage);
    return;
  }
  const file = recordDemoAccounts(config.dataDir, accounts);
  console.log('Demo accounts (change or deactivate them before real use):');
  for (const account of accounts) {
    console.log(`  ${account.role.padEnd(13)} ${account.email.padEnd(32)} ${account.password}`);
  }
  if (file !== undefined) console.log(`(also written to ${file})`);
}

export async function seedCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { demo: { type: 'boolean' }, patients: { type: 'string' } },
  });
  const patients = values.patients === undefined ? 300 : Number(values.patients);
  if (!Number.isInteger(patients) || patients < 1 || patients > 100_000) {
    throw new UsageError('seed: --patients must be an integer from 1 to 100000');
  }
  await withContext(config, async (ctx) => {
    const created = await seedStaff(ctx);
    printAccounts(config, created, 'demo accounts already exist; nothing created');
    if (values.demo !== true) return;
    const admin = await findAccountForLogin(ctx, 'admin@demo.medcore.local');
    if (!admin) throw new Error('the demo admin account is missing');
    const summary = await seedDemoPractice(
      ctx,
      { userId: admin.id, role: 'admin', sessionId: admin.id },
      { patients, rules: config },
    );
    printAccounts(config, summary.doctors, 'demo practice already seeded; nothing added');
    if (summary.patients > 0) {
      console.log(
        `Demo practice: ${summary.patients} patients, ${summary.appointments} appointments, ` +
          `${summary.prescriptions} prescriptions.`,
      );
    }
  });
  return 0;
}

export async function createAdminCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      username: { type: 'string' },
      'full-name': { type: 'string' },
    },
  });
  const { email } = values;
  if (email === undefined) throw new UsageError('create-admin needs --email');
  // From the email's local part unless given; a short one (`jo@…`) is made long enough.
  const local = email.split('@')[0]?.replace(/[^A-Za-z0-9_.-]/g, '') ?? '';
  const username = values.username ?? (local.length >= 3 ? local : `${local}_admin`);
  const input = { email, username, fullName: values['full-name'] };
  // The email and username are checked before a password is asked for.
  checkAccount({ ...input, password: 'x'.repeat(64) });
  const password = values.password ?? (await readPassword(`Password for ${email}: `));
  checkAccount({ ...input, password });
  const user = await withContext(config, (ctx) =>
    createAccount(ctx, { email, password, username, full_name: input.fullName }, 'admin'),
  );
  console.log(`admin created: ${user.email} (${user.id})`);
  return 0;
}
