import { fileURLToPath } from 'node:url';
import { expect, ok, test } from '../../fixtures.ts';
import { expectControlsLabelled, personPage, seed } from './seed.ts';

const shot = (name: string) => fileURLToPath(new URL(`../../test-results/${name}.png`, import.meta.url));

test('a succeeded release is rolled back after success from its page: traffic back to the slot that keeps the version before', async ({
  browser,
  baseURL,
  api,
}) => {
  const s = await seed(api);
  // An environment whose releases alternate between two slots (CI deploys them: the none deployer).
  const environment = await ok(
    api.POST('/api/v1/environments', {
      body: {
        service: s.service,
        name: 'shop',
        position: 3,
        requireUpstreamSuccess: false,
        target: { type: 'recording', config: {} },
        deployer: { type: 'none', config: {} },
        slots: ['blue', 'green'],
        keepPreviousFor: '2h',
      },
    }),
    'environment with slots',
  );
  const first = await s.start('shop', '1.0.0');
  await s.waitFor(first, ['succeeded']);
  const second = await s.start('shop', '1.1.0');
  await s.waitFor(second, ['succeeded']);

  const alice = await personPage(browser, baseURL!, 'alice');
  // The environment says which slot is live and what the idle one keeps, until when.
  await alice.goto(`/environments/${environment.id}`);
  const slots = alice.getByTestId('environment-slots');
  await expect(slots).toContainText('none deployer');
  await expect(slots.getByTestId('slot-live')).toContainText('blue');
  await expect(slots.getByTestId('slot-live')).toContainText('1.1.0');
  await expect(slots.getByTestId('slot-idle')).toContainText('green');
  await expect(slots.getByTestId('slot-idle')).toContainText('1.0.0');
  await expect(slots.getByTestId('slot-idle')).toContainText('the version before, for an instant rollback');
  await expectControlsLabelled(alice);
  await alice.screenshot({ path: shot('live-environment-slots'), fullPage: true });

  await slots.getByTestId('slot-live').getByRole('link', { name: '1.1.0' }).click();
  await expect(alice).toHaveURL(new RegExp(`/releases/${second}$`));
  await expect(alice.getByTestId('phase-badge').first()).toHaveText('succeeded');
  await expect(alice.getByTestId('release-slots')).toContainText('kept for an instant rollback until');
  const controls = alice.getByTestId('release-controls');
  await controls.getByRole('button', { name: 'Roll back' }).click();
  const form = controls.getByRole('form', { name: 'Roll back' });
  await expect(form).toContainText('Roll back after success: all traffic back to the version before, on slot green');
  await form.getByLabel('Reason (required)').fill('wrong prices since 1.1.0');
  await form.getByRole('button', { name: 'Roll back' }).click();

  await expect(controls.getByTestId('control-result')).toContainText('the release is now rolled back');
  await expect(alice.getByTestId('phase-badge').first()).toHaveText('rolled back');
  await expect(alice.getByTestId('release-slots')).toContainText('rolled back after success: all traffic switched back to it by user');
  await expect(controls.getByTestId('control-audit-link')).toContainText('release.rolled-back');
  await alice.screenshot({ path: shot('live-rolled-back-after-success'), fullPage: true });

  // The traffic went back in one router call, and the environment shows green live with 1.0.0, nothing kept on blue.
  const back = await ok(api.GET('/api/v1/releases/{id}', { params: { path: { id: second } } }), 'release');
  expect(back.slots?.switchedBack).toMatchObject({ reason: 'wrong prices since 1.1.0' });
  await alice.goto(`/environments/${environment.id}`);
  await expect(slots.getByTestId('slot-live')).toContainText('green');
  await expect(slots.getByTestId('slot-live')).toContainText('1.0.0');
  await expect(slots.getByTestId('slot-idle')).toContainText('nothing kept for an instant rollback');
  await alice.screenshot({ path: shot('live-environment-slots-after-rollback'), fullPage: true });
});

test('once the version before is no longer kept, rollback after success starts a release of it, and each release names the other', async ({
  browser,
  baseURL,
  api,
}) => {
  const s = await seed(api);
  await ok(
    api.POST('/api/v1/environments', {
      body: {
        service: s.service,
        name: 'brief',
        position: 3,
        requireUpstreamSuccess: false,
        target: { type: 'recording', config: {} },
        deployer: { type: 'none', config: {} },
        slots: ['blue', 'green'],
        keepPreviousFor: '1ms',
      },
    }),
    'environment keeping nothing',
  );
  await s.waitFor(await s.start('brief', '1.0.0'), ['succeeded']);
  const second = await s.start('brief', '1.1.0');
  await s.waitFor(second, ['succeeded']);

  const alice = await personPage(browser, baseURL!, 'alice');
  await alice.goto(`/releases/${second}`);
  const controls = alice.getByTestId('release-controls');
  await controls.getByRole('button', { name: 'Roll back' }).click();
  const form = controls.getByRole('form', { name: 'Roll back' });
  await form.getByLabel('Reason (required)').fill('1.1.0 double-charges');
  await form.getByRole('button', { name: 'Roll back' }).click();
  await expect(controls.getByTestId('control-result')).toContainText('deploys version 1.0.0 again');

  // The release undone names its undoing release, which names it back.
  const undoneBy = alice.getByTestId('release-undone-by');
  await expect(undoneBy).toContainText('Rolled back after success by release');
  await alice.screenshot({ path: shot('live-undone-by'), fullPage: true });
  await undoneBy.getByRole('link').click();
  await expect(alice.getByTestId('release-undoes')).toContainText(second);
  const undo = await ok(api.GET('/api/v1/releases/{id}', { params: { path: { id: second } } }), 'release');
  expect(undo.undoneBy).toBeTruthy();
  await s.waitFor(undo.undoneBy!, ['succeeded']);

  await alice.goto(`/releases`);
  const row = alice.locator(`[data-release-id="${second}"]`);
  await expect(row.getByTestId('release-after-success')).toContainText('undone by');
  await alice.screenshot({ path: shot('live-releases-undone'), fullPage: true });
});
