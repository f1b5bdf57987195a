import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_SCHEMA_FILE, renderClientSchema } from './client-schema.ts';

describe('packages/client', () => {
  it('is generated from the current OpenAPI document (else run `pnpm client:generate`)', async () => {
    const current = await renderClientSchema();
    expect(readFileSync(CLIENT_SCHEMA_FILE, 'utf8') === current, 'packages/client/src/schema.gen.ts is out of date: run `pnpm client:generate`').toBe(true);
  });
});

describe('the OpenAPI document', () => {
  it('describes plan and policy documents with real schemas, not "anything"', async () => {
    const { createTestApp } = await import('../testing/test-app.ts');
    const t = await createTestApp();
    try {
      const doc = (await t.app.inject({ url: '/api/openapi.json', headers: t.admin })).json() as {
        components: { schemas: Record<string, { anyOf?: unknown[]; properties?: Record<string, unknown> }> };
        paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>>;
      };
      expect(doc.components.schemas.PlanSpec!.anyOf).toHaveLength(4); // canary, blue-green, rolling, shadow
      expect(Object.keys(doc.components.schemas.EnvironmentPolicy!.properties!)).toContain('approverGroup');
      expect(doc.paths['/api/v1/plans']!.post!.requestBody!.content['application/json']!.schema.properties.spec).toMatchObject({
        $ref: '#/components/schemas/PlanSpec',
      });
    } finally {
      await t.close();
    }
  });
});
