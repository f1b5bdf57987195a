import { dropTemplateDatabase, prepareTemplateDatabase } from './test-database.ts';

export default async function setup(): Promise<() => Promise<void>> {
  // Test workers start after this and inherit the name.
  process.env.GLIDEPATH_TEST_TEMPLATE = `glidepath_test_template_${process.pid}`;
  await prepareTemplateDatabase();
  return dropTemplateDatabase;
}
