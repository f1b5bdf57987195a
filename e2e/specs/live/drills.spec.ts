import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect, ok, test } from '../../fixtures.ts';
import { expectControlsLabelled, personPage, seed } from './seed.ts';

const shot = (name: string) => fileURLToPath(new URL(`../../test-results/${name}.png`, import.meta.url));

test('a deployer runs a rollback drill from the environment page and sees it roll back, with its time against the objective', async ({
  browser,
  baseURL,
  api,
}) => {
  const s = await seed(api);
  const name = `drilled-${randomBytes(2).toString('hex')}`;
  // CI deploys by itself (deployer none): the slots alternate, and a drill moves real weights on the router.
  const env = await ok(
    api.POST('/api/v1/environments', {
      body: {
        service: s.service,
        name,
        position: 10,
        requireUpstreamSuccess: false,
        target: { type: 'recording', config: {} },
        deployer: { type: 'none', config: {} },
        keepPreviousFor: '1ms',
        drills: { every: '168h', objective: '30s', hold: '1s' },
      },
    }),
    'environment',
  );
  await s.waitFor(await s.start(name, '1.0.0'), ['succeeded']);
  // A drill run through the API first: the page opens on some history.
  await ok(api.POST('/api/v1/environments/{id}/drills', { params: { path: { id: env.id } }, body: { reason: 'first rehearsal' } }), 'drill');
  await expect
    .poll(async () => (await ok(api.GET('/api/v1/environments/{id}/drills', { params: { path: { id: env.id } } }), 'drills')).items[0]?.status, {
      timeout: 20_000,
    })
    .toBe('succeeded');

  const alice = await personPage(browser, baseURL!, 'alice');
  await alice.goto(`/environments/${env.id}`);
  const drills = alice.getByTestId('environment-drills');
  await expect(drills.getByTestId('drill-schedule')).toContainText('Every 168h');
  await expect(drills.getByTestId('drill-schedule')).toContainText('objective 30s');
  await expect(drills.getByTestId('drill-row')).toHaveCount(1);
  await expectControlsLabelled(alice);

  await drills.getByRole('button', { name: 'Run drill' }).click();
  const form = drills.getByRole('form', { name: 'Run drill' });
  await form.getByLabel('Reason (optional)').fill('quarterly check before the sale');
  await form.getByRole('button', { name: 'Run drill' }).click();
  const rows = drills.getByTestId('drill-row');
  await expect(rows).toHaveCount(2);
  // It appears running, then rolls back by itself: the page follows it.
  await expect(rows.first()).toHaveAttribute('data-status', 'succeeded', { timeout: 20_000 });
  await expect(rows.first()).toContainText('on demand');
  await expect(rows.first()).toContainText(/\d+ms \/ 30s/);
  await expect(drills.getByRole('button', { name: 'Run drill' })).toBeEnabled();
  await alice.screenshot({ path: shot('live-environment-drills'), fullPage: true });

  // Its release says it is a drill, and links back here.
  await rows.first().getByRole('link').click();
  await expect(alice.getByTestId('release-drill')).toContainText('A rollback drill');
  await expect(alice.getByTestId('phase-badge').first()).toHaveText('rolled back');
  // Nothing to retry or promote: a drill only ever rolls back.
  await expect(alice.getByTestId('release-controls')).toHaveCount(0);
  await alice.screenshot({ path: shot('live-drill-release') });

  // The drill's release says what it was; the live slot did not change.
  const environment = await ok(api.GET('/api/v1/environments/{id}', { params: { path: { id: env.id } } }), 'environment');
  expect(environment.liveSlot).toBe('green');
});

test('a viewer sees the drill history but no Run drill button', async ({ browser, baseURL, api }) => {
  const s = await seed(api);
  const dev = (await ok(api.GET('/api/v1/environments', { params: { query: { service: s.service } } }), 'environments')).items.find((e) => e.name === 'dev')!;
  const victor = await personPage(browser, baseURL!, 'victor');
  await victor.goto(`/environments/${dev.id}`);
  const drills = victor.getByTestId('environment-drills');
  await expect(drills).toContainText('Drills need a deployer');
  await expect(drills.getByRole('button', { name: 'Run drill' })).toHaveCount(0);
});
