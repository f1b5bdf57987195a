// The typed client (packages/client) is generated from the API's own OpenAPI document:
// `pnpm client:generate` writes it, client-in-step.test.ts fails when it is out of date.
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { createTestApp } from '../testing/test-app.ts';

export const CLIENT_SCHEMA_FILE = fileURLToPath(new URL('../../../../packages/client/src/schema.gen.ts', import.meta.url));
const HEADER = "// Generated from the API's OpenAPI document by `pnpm client:generate` (apps/api/src/openapi). Do not edit.\n\n";

/** The OpenAPI document of a real app (real PostgreSQL and Redis behind it), as TypeScript types. */
export async function renderClientSchema(): Promise<string> {
  const t = await createTestApp();
  try {
    await t.app.ready();
    const document = t.app.swagger() as Parameters<typeof openapiTS>[0];
    return HEADER + astToString(await openapiTS(document, { alphabetize: true }));
  } finally {
    await t.close();
  }
}
