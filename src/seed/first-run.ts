import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { count } from 'drizzle-orm';
import { users } from '../db/schema/users.js';
import { findAccountForLogin } from '../modules/users/users.service.js';
import { recordDemoAccounts } from './accounts-file.js';
import { seedDemoPractice } from './demo.js';
import { seedStaff } from './staff.js';

/** Patients of the practice made on a first start (the CLI's `seed --demo` makes 300). */
const FIRST_RUN_PATIENTS = 100;

/**
 * In development, the first start on an empty database (no account at all) creates the demo
 * practice, so there is something to look at, and writes the accounts to
 * DATA_DIR/demo-accounts.txt; the log names the file, never a password. SEED_DEMO=false turns
 * it off; production and test never do it. Runs after the server listens (it takes seconds).
 */
export async function seedOnFirstRun(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  log: FastifyBaseLogger,
): Promise<string | undefined> {
  const { config } = ctx;
  if (config.nodeEnv !== 'development' || !config.seedDemo) return undefined;
  const [row] = await ctx.db.select({ n: count() }).from(users);
  if ((row?.n ?? 0) > 0) return undefined;
  log.info('empty database: creating the demo practice (SEED_DEMO=false turns this off)');
  const staff = await seedStaff(ctx);
  const admin = await findAccountForLogin(ctx, 'admin@demo.medcore.local');
  if (!admin) throw new Error('the demo admin account is missing');
  const summary = await seedDemoPractice(
    ctx,
    { userId: admin.id, role: 'admin', sessionId: admin.id },
    { patients: FIRST_RUN_PATIENTS, rules: config },
  );
  const file = recordDemoAccounts(config.dataDir, [...staff, ...summary.doctors]);
  log.info(
    { patients: summary.patients, appointments: summary.appointments, accounts_file: file },
    `demo practice ready; demo accounts and passwords are in ${file ?? '(none: memory://)'}`,
  );
  return file;
}
