import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VARIABLES, type Variable } from './variables.ts';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** GLIDEPATH_* names the README may mention that are not Glidepath's own configuration. */
const NOT_CONFIGURATION = new Set([
  // The `glidepath` command's own settings (apps/cli), for CI pipelines.
  'GLIDEPATH_URL',
  'GLIDEPATH_TOKEN',
  // Test and development harnesses.
  'GLIDEPATH_TEST_TEMPLATE',
  'GLIDEPATH_DEV_OIDC_PORT',
  'GLIDEPATH_API_PORT',
  'GLIDEPATH_E2E_URL',
  'GLIDEPATH_E2E_TOKEN',
  'GLIDEPATH_E2E_STORAGE_STATE',
  'GLIDEPATH_E2E_DATABASE_URL',
  'GLIDEPATH_E2E_LIVE_URL',
  'GLIDEPATH_E2E_LIVE_TOKEN',
]);

/** The rows of README's "## Configuration" table: `NAME` | read by | default | what. */
function configurationRows(): Map<string, { readBy: string; fallback: string }> {
  const start = README.indexOf('\n## Configuration\n');
  expect(start, 'README has a "## Configuration" section').toBeGreaterThan(-1);
  const section = README.slice(start + 1, README.indexOf('\n## ', start + 1));
  const rows = new Map<string, { readBy: string; fallback: string }>();
  for (const line of section.split('\n')) {
    const cells = /^\|(.*)\|$/
      .exec(line)?.[1]
      ?.split(' | ')
      .map((cell) => cell.trim());
    const name = cells?.[0] && /^`([A-Z][A-Z0-9_]+)`$/.exec(cells[0])?.[1];
    if (name) rows.set(name, { readBy: cells[1]!, fallback: cells[2]!.replaceAll('`', '') });
  }
  return rows;
}

/** The default as the README writes it: the schema's own words, and when it stops being optional. */
function documentedDefault(v: Variable<unknown>): string {
  let text = v.type.shown;
  if (v.requiredInProduction) text += ' (required in production)';
  if (v.requiredWith) text += ` (required with ${v.requiredWith})`;
  return text;
}

describe("README's configuration table", () => {
  const rows = configurationRows();
  const table = Object.entries(VARIABLES as Record<string, Variable<unknown>>);

  it.each(table)('documents %s: who reads it and its default', (name, v) => {
    expect(rows.get(name), `${name} is in the schema but not in README's configuration table`).toEqual({
      readBy: v.apps.join(', '),
      fallback: documentedDefault(v),
    });
  });

  it('lists only variables the schema knows, and mentions no other GLIDEPATH_ variable anywhere', () => {
    const unknown = [...rows.keys()].filter((name) => !(name in VARIABLES));
    const mentioned = [...new Set(README.match(/\bGLIDEPATH_[A-Z0-9_]+/g))].filter((name) => !(name in VARIABLES) && !NOT_CONFIGURATION.has(name));
    expect({ unknown, mentioned }).toEqual({ unknown: [], mentioned: [] });
  });
});
