import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { count, notLike } from 'drizzle-orm';
import { patients } from '../db/schema/patients.js';
import { users } from '../db/schema/users.js';
import { findAccountForLogin } from '../modules/users/users.service.js';
import { demoAccountsFile, recordDemoAccounts } from './accounts-file.js';
import { seedDemoPractice } from './demo.js';
import { seedStaff, type SeededAccount } from './staff.js';

/** Patients of the practice made on a first start (the CLI's `seed --demo` makes 300). */
const FIRST_RUN_PATIENTS = 100;

const DEMO_EMAILS = '%@demo.medcore.local';

/**
 * A first run: no account but demo ones, and no patient yet. That is an empty database, or one
 * whose first run stopped before the practice was made (the server was stopped seconds after its
 * first start): the next start finishes it. Someone's own account, or a patient, means the
 * database is in use, and it is left alone.
 */
async function isFirstRun(ctx: Pick<AppContext, 'db'>): Promise<boolean> {
  const [own] = await ctx.db
    .select({ n: count() })
    .from(users)
    .where(notLike(users.email, DEMO_EMAILS));
  if ((own?.n ?? 0) > 0) return false;
  const [patient] = await ctx.db.select({ n: count() }).from(patients);
  return (patient?.n ?? 0) === 0;
}

/**
 * In development, the first start on an empty database creates the demo practice, so there is
 * something to look at, and writes the accounts to DATA_DIR/demo-accounts.txt; the log names
 * the file, never a password. SEED_DEMO=false turns it off; production and test never do it.
 * Runs after the server listens (it takes seconds). Each account's password is written to the
 * file as soon as its account exists, so a start stopped half-way loses no password, and the
 * next start completes the practice (isFirstRun).
 */
export async function seedOnFirstRun(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  log: FastifyBaseLogger,
): Promise<string | undefined> {
  const { config } = ctx;
  if (config.nodeEnv !== 'development' || !config.seedDemo) return undefined;
  if (!(await isFirstRun(ctx))) return undefined;
  log.info('empty database: creating the demo practice (SEED_DEMO=false turns this off)');
  const record = (account: SeededAccount) => recordDemoAccounts(config.dataDir, [account]);
  await seedStaff(ctx, record);
  const admin = await findAccountForLogin(ctx, 'admin@demo.medcore.local');
  if (!admin) throw new Error('the demo admin account is missing');
  const summary = await seedDemoPractice(
    ctx,
    { userId: admin.id, role: 'admin', sessionId: admin.id },
    { patients: FIRST_RUN_PATIENTS, rules: config, onAccount: record },
  );
  const file = demoAccountsFile(config.dataDir);
  log.info(
    { patients: summary.patients, appointments: summary.appointments, accounts_file: file },
    `demo practice ready; demo accounts and passwords are in ${file ?? '(none: memory://)'}`,
  );
  return file;
}
