import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { generatedSchema } from '../scripts/generate-client.js';

describe('the typed client', () => {
  it('is generated from the live OpenAPI document (run `npm run client:generate` if this fails)', async () => {
    const committed = await readFile(new URL('../client/src/schema.d.ts', import.meta.url), 'utf8');
    const live = await generatedSchema();
    // Compared as a whole: any route, parameter or schema change shows up here.
    expect(committed === live, 'client/src/schema.d.ts is stale: run npm run client:generate').toBe(
      true,
    );
    expect(committed).toContain("'/api/v1/patients/{id}'");
  }, 60_000);
});
