import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect, ok, test } from '../fixtures.ts';

const screenshot = fileURLToPath(new URL('../test-results/dora.png', import.meta.url));

/** No worker runs in the browser tests: a release's outcome is written the way the worker would leave it. */
function finish(releaseId: string, phase: 'succeeded' | 'rolled-back', minutesAgo: number) {
  execFileSync('psql', [
    process.env.GLIDEPATH_E2E_DATABASE_URL!,
    '-qc',
    `UPDATE release SET phase = '${phase}', finished_at = now() - interval '${minutesAgo} minutes', updated_at = now() WHERE id = '${releaseId}'`,
  ]);
}

test('the DORA page shows the figures of releases that ended', async ({ page, api }) => {
  const service = `ledger-${randomBytes(4).toString('hex')}`;
  await ok(api.POST('/api/v1/services', { body: { name: service } }), 'service');
  await ok(api.POST('/api/v1/environments', { body: { service, name: 'prod', position: 0, target: { type: 'recording', config: {} } } }), 'environment');
  await ok(api.POST('/api/v1/plans', { body: { name: service, spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 100 }] } } }), 'plan');
  for (const version of ['1.0.0', '1.0.1'])
    await ok(api.POST('/api/v1/artifacts', { body: { service, version, digest: `sha256:${randomBytes(32).toString('hex')}` } }), version);
  for (const [version, phase, minutesAgo] of [
    ['1.0.0', 'succeeded', 60],
    ['1.0.1', 'rolled-back', 30],
  ] as const) {
    const created = await ok(api.POST('/api/v1/releases', { body: { service, environment: 'prod', version, plan: service } }), 'release');
    finish(created.id, phase, minutesAgo);
  }

  // Registered two hours ago: lead times of one hour and ninety minutes.
  execFileSync('psql', [
    process.env.GLIDEPATH_E2E_DATABASE_URL!,
    '-qc',
    `UPDATE artifact SET created_at = now() - interval '120 minutes' WHERE service_id = (SELECT id FROM service WHERE name = '${service}')`,
  ]);
  await page.goto('/dora');
  const card = page.getByTestId('dora-card').filter({ hasText: `${service} → prod` });
  await expect(card.getByTestId('dora-frequency')).toContainText('(2 deployments)');
  await expect(card.getByTestId('dora-failure-rate')).toHaveText('50.0% (1 of 2)');
  await expect(card).toContainText('1h median of 1');
  await card.scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshot, fullPage: true });
});
