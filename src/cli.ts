#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { backupCommand, restoreCommand } from './backup/commands.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { AppContext } from './context.js';
import { jobDatabaseOptions, openDatabase } from './db/client.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { systemClock } from './lib/clock.js';
import { AppError } from './lib/errors.js';
import { seedDemoPractice } from './seed/demo.js';
import { seedStaff, type SeededAccount } from './seed/staff.js';
import { startServer } from './server.js';
import { createAccount, findAccountForLogin } from './modules/users/users.service.js';

const usage = `Usage: medcore <command> [options]

Commands:
  serve                                    start the HTTP server (default)
  migrate                                  apply database migrations and exit
  seed [--demo] [--patients N]             one demo account per role (printed once); --demo also
                                           adds doctors, N patients (300), a week of appointments
                                           and prescriptions
  create-admin --email E --password P [--username U] [--full-name N]
                                           create an admin account
  backup <file> [--no-content]             write every table (and document content) to one
                                           checksummed file, from a consistent snapshot; with
                                           --no-content, rows only name their stored objects
  restore <file> [--force]                 load a backup into an empty database (PGlite or
                                           PostgreSQL, either way), all or nothing; --force
                                           replaces the data of a non-empty one
  openapi                                  print the OpenAPI document (JSON) and exit; needs no
                                           configuration and touches no database
`;

function printAccounts(accounts: SeededAccount[], noneMessage: string): void {
  if (accounts.length === 0) {
    console.log(noneMessage);
    return;
  }
  console.log('Demo accounts (shown once; change or deactivate them before real use):');
  for (const account of accounts) {
    console.log(`  ${account.role.padEnd(13)} ${account.email.padEnd(32)} ${account.password}`);
  }
}

/**
 * What the commands' use cases take: a migrated database and the clock. Nothing here signs
 * tokens, seals MFA secrets, sends mail or stores documents, so none of those is built.
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

/**
 * The API contract without a server or a real database: the app is built on a throw-away,
 * unmigrated in-memory PGlite (never queried) from a fixed configuration, so the document is the
 * same whatever the environment says, and DATABASE_URL or REDIS_URL are never contacted.
 */
async function printOpenApi(): Promise<number> {
  const config = loadConfig({
    NODE_ENV: 'development',
    LOG_LEVEL: 'silent',
    DATA_DIR: 'memory://',
    MIGRATE_ON_START: 'false',
    RATE_LIMIT_ENABLED: 'false',
    JWT_SECRET: randomBytes(48).toString('base64url'),
  });
  const app = await buildApp(config, { logger: false });
  try {
    process.stdout.write(JSON.stringify(app.swagger(), null, 2) + '\n');
  } finally {
    await app.close();
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  // Before loading the environment's configuration: the document does not depend on it.
  if (command === 'openapi') return printOpenApi();
  const config = loadConfig();
  switch (command) {
    case 'serve':
      await startServer(config);
      return -1; // keep running
    case 'migrate': {
      const database = await openDatabase(jobDatabaseOptions(config));
      try {
        await database.migrate();
      } finally {
        await database.close();
      }
      console.log(`migrations applied (${database.kind})`);
      return 0;
    }
    case 'seed': {
      const { values } = parseArgs({
        args: rest,
        options: { demo: { type: 'boolean' }, patients: { type: 'string' } },
      });
      const patients = values.patients === undefined ? 300 : Number(values.patients);
      if (!Number.isInteger(patients) || patients < 1 || patients > 100_000) {
        console.error('seed: --patients must be an integer from 1 to 100000\n\n' + usage);
        return 2;
      }
      await withContext(config, async (ctx) => {
        const created = await seedStaff(ctx);
        printAccounts(created, 'demo accounts already exist; nothing created');
        if (values.demo !== true) return;
        const admin = await findAccountForLogin(ctx, 'admin@demo.medcore.local');
        if (!admin) throw new Error('the demo admin account is missing');
        const summary = await seedDemoPractice(
          ctx,
          { userId: admin.id, role: 'admin', sessionId: admin.id },
          { patients },
        );
        printAccounts(summary.doctors, 'demo practice already seeded; nothing added');
        if (summary.patients > 0) {
          console.log(
            `Demo practice: ${summary.patients} patients, ${summary.appointments} appointments, ` +
              `${summary.prescriptions} prescriptions.`,
          );
        }
      });
      return 0;
    }
    case 'create-admin': {
      const { values } = parseArgs({
        args: rest,
        options: {
          email: { type: 'string' },
          password: { type: 'string' },
          username: { type: 'string' },
          'full-name': { type: 'string' },
        },
      });
      if (values.email === undefined || values.password === undefined) {
        console.error('create-admin needs --email and --password\n\n' + usage);
        return 2;
      }
      const { email, password } = values;
      const user = await withContext(config, (ctx) =>
        createAccount(
          ctx,
          {
            email,
            password,
            username:
              values.username ?? email.split('@')[0]?.replace(/[^A-Za-z0-9_.-]/g, '') ?? 'admin',
            full_name: values['full-name'],
          },
          'admin',
        ),
      );
      console.log(`admin created: ${user.email} (${user.id})`);
      return 0;
    }
    case 'backup':
      return backupCommand(config, rest, usage);
    case 'restore':
      return restoreCommand(config, rest, usage);
    case 'help':
    case '--help':
    case '-h':
      console.log(usage);
      return 0;
    default:
      console.error(`unknown command: ${command}\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof DataDirLockedError) {
      console.error(`medcore: ${error.message}`);
    } else if (error instanceof AppError) {
      console.error(
        `medcore: ${error.message}${error.errors ? ' ' + JSON.stringify(error.errors) : ''}`,
      );
    } else {
      console.error('medcore: failed', error);
    }
    process.exit(1);
  },
);
