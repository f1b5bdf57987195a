import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_SCHEMA_FILE, renderClientSchema } from './client-schema.ts';

describe('packages/client', () => {
  it('is generated from the current OpenAPI document (else run `pnpm client:generate`)', async () => {
    const current = await renderClientSchema();
    expect(readFileSync(CLIENT_SCHEMA_FILE, 'utf8') === current, 'packages/client/src/schema.gen.ts is out of date: run `pnpm client:generate`').toBe(true);
  });
});
