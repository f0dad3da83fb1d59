import openapiTS, { astToString } from 'openapi-typescript';

/**
 * The client's types from an OpenAPI document: `paths`, `components` and `operations`, as
 * openapi-typescript writes them, under a header that says where they come from. Used by
 * scripts/generate-client.ts (writes client/src/schema.d.ts) and by the test that fails when the
 * committed file is stale against the live document.
 */
export async function clientTypes(document: string): Promise<string> {
  const ast = await openapiTS(JSON.parse(document) as Parameters<typeof openapiTS>[0], {
    alphabetize: true,
  });
  return (
    '/**\n' +
    " * Generated from MedCore's OpenAPI document by `npm run client:generate`: do not edit.\n" +
    ' * `npm test` fails when this file is stale against the live document.\n' +
    ' */\n\n' +
    astToString(ast)
  );
}
