/**
 * Regenerates the typed client's types (client/src/schema.d.ts) from the live OpenAPI document,
 * the one `medcore openapi --live` prints. Run after changing a route's schema:
 *   npm run client:generate
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { clientTypes } from '../client/src/generate.js';
import { liveDocument } from '../src/cli/openapi.js';

const target = fileURLToPath(new URL('../client/src/schema.d.ts', import.meta.url));

export async function generatedSchema(): Promise<string> {
  const types = await clientTypes(await liveDocument());
  const options = (await resolveConfig(target)) ?? {};
  return format(types, { ...options, filepath: target });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(target, await generatedSchema());
  console.log(`wrote ${target}`);
}
