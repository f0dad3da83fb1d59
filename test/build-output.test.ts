import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The files `npm run build` compiles into dist/, as tsc itself reads tsconfig.build.json. */
function compiledFiles(): string[] {
  const configPath = resolve(root, 'tsconfig.build.json');
  const read: { config?: unknown; error?: ts.Diagnostic } = ts.readConfigFile(configPath, (path) =>
    ts.sys.readFile(path),
  );
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, root).fileNames;
}

// Test runners, property testing, emulators and anything under test/.
const testOnlyImport =
  /(?:from|import)\s*\(?\s*'(?:vitest|fast-check|s3rver|azurite|smtp-server|[^']*\/test\/[^']*)'/;

describe('the build (dist/)', () => {
  it('compiles no test-only code', () => {
    const files = compiledFiles();
    expect(files.length).toBeGreaterThan(50);
    const offenders = files
      .map((file) => relative(root, file))
      .filter(
        (file) =>
          /(?:^|[./-])test(?:s|-support|-servers)?\.ts$|\.contract\.ts$/.test(file) ||
          testOnlyImport.test(readFileSync(resolve(root, file), 'utf8')),
      );
    expect(offenders).toEqual([]);
  });
});
