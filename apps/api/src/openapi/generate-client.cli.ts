import { writeFileSync } from 'node:fs';
import { dropTemplateDatabase, prepareTemplateDatabase } from '@glidepath/db/testing';
import { CLIENT_SCHEMA_FILE, renderClientSchema } from './client-schema.ts';

// The document comes from a real app, which needs a migrated database: the tests' template.
process.env.GLIDEPATH_TEST_TEMPLATE = `glidepath_client_template_${process.pid}`;
await prepareTemplateDatabase();
try {
  writeFileSync(CLIENT_SCHEMA_FILE, await renderClientSchema());
  console.log(`wrote ${CLIENT_SCHEMA_FILE}`);
} finally {
  await dropTemplateDatabase();
}
process.exit(0);
