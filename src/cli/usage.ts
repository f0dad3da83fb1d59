/** The help text, and the error for a command line that does not match it (exit 2). */
export const usage = `Usage: medcore <command> [options]

Commands:
  serve                                    start the HTTP server (default)
  migrate                                  apply database migrations and exit
  seed [--demo] [--patients N]             one demo account per role; --demo also adds doctors,
                                           N patients (300), this week's appointments and
                                           prescriptions; new accounts are printed and added
                                           to DATA_DIR/demo-accounts.txt
  create-admin --email E [--password P] [--username U] [--full-name N]
                                           create an admin account; without --password, asks
                                           for it (or reads one line from standard input)
  backup <file> [--no-content]             write every table (and document content) to one
                                           checksummed file, from a consistent snapshot; with
                                           --no-content, rows only name their stored objects
  restore <file> [--force]                 load a backup into an empty database (PGlite or
                                           PostgreSQL, either way), all or nothing; --force
                                           replaces the data of a non-empty one
  openapi [--out FILE]                     print (or write) the OpenAPI document (JSON); needs
                                           no configuration and touches no database
  version                                  print the version
  help                                     print this help

Database commands work beside a running server on the same embedded DATA_DIR (they connect
through its socket), except restore, which needs the server stopped.
`;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** parseArgs' own errors (unknown option, missing value) are usage errors too. */
export function isUsageError(error: unknown): boolean {
  if (error instanceof UsageError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
