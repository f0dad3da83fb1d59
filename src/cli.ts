#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { AppContext } from './context.js';
import { openDatabase } from './db/client.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { systemClock } from './lib/clock.js';
import { AppError } from './lib/errors.js';
import { createTokenSigner } from './modules/auth/tokens.js';
import { seedStaff } from './seed.js';
import { startServer } from './server.js';
import { createAccount } from './modules/users/users.service.js';

const usage = `Usage: medcore <command> [options]

Commands:
  serve                                    start the HTTP server (default)
  migrate                                  apply database migrations and exit
  seed                                     create one demo account of each role (printed once)
  create-admin --email E --password P [--username U] [--full-name N]
                                           create an admin account
`;

/** A context for commands that run use cases without HTTP (no tokens are signed here). */
async function withContext<T>(config: Config, run: (ctx: AppContext) => Promise<T>): Promise<T> {
  const database = await openDatabase(config);
  try {
    await database.migrate();
    const ctx: AppContext = {
      config,
      db: database.db,
      clock: systemClock,
      tokens: createTokenSigner({
        secret: 'x'.repeat(32),
        issuer: '',
        audience: '',
        accessTtlS: 60,
      }),
    };
    return await run(ctx);
  } finally {
    await database.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  const config = loadConfig();
  switch (command) {
    case 'serve':
      await startServer(config);
      return -1; // keep running
    case 'migrate': {
      const database = await openDatabase(config);
      try {
        await database.migrate();
      } finally {
        await database.close();
      }
      console.log(`migrations applied (${database.kind})`);
      return 0;
    }
    case 'seed':
      await withContext(config, async (ctx) => {
        const created = await seedStaff(ctx);
        if (created.length === 0) {
          console.log('demo accounts already exist; nothing created');
          return;
        }
        console.log('Demo accounts (shown once; change or deactivate them before real use):');
        for (const account of created) {
          console.log(
            `  ${account.role.padEnd(13)} ${account.email.padEnd(32)} ${account.password}`,
          );
        }
      });
      return 0;
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
