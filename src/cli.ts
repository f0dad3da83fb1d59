#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isUsageError, usage, UsageError } from './cli/usage.js';
import { ConfigError, loadConfig, loadEnvFile } from './config.js';

/**
 * The command line. Only what a command needs is imported, when it runs: `help`, `version` and
 * `openapi` load neither the app nor PGlite and answer in a fraction of a second; `serve`
 * starts PGlite's thread first and loads the app while it boots.
 */

// A closed pipe (`medcore openapi | head`) ends the output, not with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

function version(): string {
  const pkg = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'help':
    case '--help':
    case '-h':
      console.log(usage);
      return 0;
    case 'version':
    case '--version':
    case '-v':
      console.log(`medcore ${version()}`);
      return 0;
    case 'openapi': {
      // Before the environment's configuration: the document does not depend on it.
      const { values } = parseArgs({
        args: rest,
        options: { out: { type: 'string' }, live: { type: 'boolean' } },
      });
      const { openApiCommand } = await import('./cli/openapi.js');
      return openApiCommand(values.out, values.live === true);
    }
    case 'serve':
    case 'migrate':
    case 'seed':
    case 'create-admin':
    case 'backup':
    case 'restore':
      break;
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
  const fromFile = loadEnvFile();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError && fromFile.has(error.key)) {
      throw new ConfigError(error.key, `${error.message.replace(/^[^:]*: /, '')} (set in .env)`);
    }
    throw error;
  }
  switch (command) {
    case 'serve': {
      if (rest.length > 0) throw new UsageError(`serve takes no arguments: ${rest.join(' ')}`);
      // PGlite's thread boots (seconds) while this thread loads the app (seconds too).
      const { openDatabase } = await import('./db/client.js');
      const database = openDatabase(config);
      database.catch(() => undefined); // awaited (and reported) by startServer
      const { startServer } = await import('./server.js');
      await startServer(config, { database });
      return -1; // keep running
    }
    case 'migrate':
      return (await import('./cli/db-commands.js')).migrateCommand(config);
    case 'seed':
      return (await import('./cli/db-commands.js')).seedCommand(config, rest);
    case 'create-admin':
      return (await import('./cli/db-commands.js')).createAdminCommand(config, rest);
    case 'backup':
      return (await import('./backup/commands.js')).backupCommand(config, rest, usage);
    case 'restore':
      return (await import('./backup/commands.js')).restoreCommand(config, rest, usage);
  }
}

// Failures a person can act on; by name, so reporting one loads nothing more.
const oneLine = new Set([
  'ConfigError',
  'DataDirLockedError',
  'ServerRunningError',
  'PortInUseError',
  'AppError',
]);

/** Known failures are one line on stderr: exit 2 for a command line that does not parse. */
function explain(error: unknown): number {
  if (isUsageError(error)) {
    console.error(`medcore: ${(error as Error).message}\nRun \`medcore help\` for usage.`);
    return 2;
  }
  if (error instanceof Error && oneLine.has(error.name)) {
    console.error(`medcore: ${error.message}`);
  } else {
    console.error('medcore: failed', error);
  }
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.exit(explain(error));
  },
);
