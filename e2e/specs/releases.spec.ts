import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { GlidepathClient, Schemas } from '@glidepath/client';
import { expect, ok, test } from '../fixtures.ts';

// The browser tests run the API without a worker: a release stays `pending` and controls are
// queued (202) but never applied. That is enough for the pages, which only read.

const screenshot = fileURLToPath(new URL('../test-results/release-detail.png', import.meta.url));
const analysisScreenshot = fileURLToPath(new URL('../test-results/release-detail-analysis.png', import.meta.url));

// The open-ended pause keeps an abort acceptable: the API judges a control against the state
// after the queued `start`, and with weights alone that start would run the release to the end.
const weightsAndPause: Step[] = [{ type: 'setWeight', weight: 10 }, { type: 'pause' }, { type: 'setWeight', weight: 100 }];

type Step = Extract<Schemas['PlanSpec'], { strategy: 'canary' }>['steps'][number];

/** A service with a dev environment, a canary plan and version 1.0.0, all named uniquely for this run. */
async function seed(api: GlidepathClient, { steps = weightsAndPause, metrics = false }: { steps?: Step[]; metrics?: boolean } = {}) {
  const suffix = randomBytes(4).toString('hex');
  const service = `shop-${suffix}`;
  const plan = `canary-${suffix}`;
  await ok(api.POST('/api/v1/services', { body: { name: service, description: 'e2e releases', owners: ['team-a'] } }), 'service');
  await ok(
    api.POST('/api/v1/environments', {
      body: { service, name: 'dev', position: 0, target: { type: 'recording', config: {} }, ...(metrics && { metrics: { type: 'pushed', config: {} } }) },
    }),
    'environment',
  );
  await ok(api.POST('/api/v1/plans', { body: { name: plan, spec: { strategy: 'canary', steps } } }), 'plan');
  await ok(api.POST('/api/v1/artifacts', { body: { service, version: '1.0.0', digest: `sha256:${randomBytes(32).toString('hex')}` } }), 'artifact');
  return {
    service,
    plan,
    release: async () =>
      (await ok(api.POST('/api/v1/releases', { body: { service, environment: 'dev', version: '1.0.0', plan, reason: 'e2e' } }), 'release')).id,
  };
}

test('a release is listed as pending and its detail shows the plan and steps', async ({ page, api }) => {
  const { service, plan, release } = await seed(api);
  const id = await release();

  await page.goto('/releases');
  const row = page.locator(`[data-release-id="${id}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId('phase-badge')).toHaveText('pending');
  await expect(row).toContainText(service);
  await expect(row).toContainText('dev');
  await expect(row).toContainText('1.0.0');
  await expect(row).toContainText(`${plan} v1`);
  await expect(row).toContainText('not started');
  await expect(row.getByRole('meter', { name: 'canary weight' })).toHaveAttribute('aria-valuenow', '0');

  // Accepted but, without a worker, never applied: the release stays pending.
  const abort = await api.POST('/api/v1/releases/{id}/abort', { params: { path: { id }, query: { wait: 0 } }, body: { reason: 'e2e: no worker runs here' } });
  expect(abort.response.status, JSON.stringify(abort.error)).toBe(202);
  expect(abort.data?.accepted).toBe(true);

  await row.getByRole('link', { name: service }).click();
  await expect(page).toHaveURL(new RegExp(`/releases/${id}$`));
  const header = page.getByTestId('release-header');
  await expect(header.getByRole('heading', { level: 1 })).toHaveText(`${service} → dev`);
  await expect(header.getByTestId('phase-badge')).toHaveText('pending');
  await expect(header).toContainText('1.0.0');
  await expect(page.getByTestId('release-plan')).toContainText(`${plan} v1 · canary`);
  await expect(page.getByTestId('release-plan')).toContainText('automatic rollback on');

  const steps = page.getByTestId('release-step');
  await expect(steps).toHaveCount(3);
  await expect(steps.nth(0)).toContainText('setWeight 10%');
  await expect(steps.nth(1)).toContainText('pause');
  await expect(steps.nth(1)).toContainText('until resumed');
  await expect(steps.nth(2)).toContainText('setWeight 100%');
  for (const step of await steps.all()) await expect(step).toContainText('pending');
  await expect(page.getByTestId('release-analysis')).toHaveCount(0); // the plan has no analysis step
  await expect(page.getByTestId('release-history')).toContainText('Nothing has happened yet');
  await expect(page.getByRole('link', { name: 'Releases' }).first()).toHaveClass(/active/);

  await page.screenshot({ path: screenshot, fullPage: true });
});

test('a release created while the list is open shows up without reloading or polling', async ({ page, api }) => {
  const { service, release } = await seed(api);
  const pushes: number[] = [];
  page.on('websocket', (socket) => socket.on('framereceived', () => pushes.push(Date.now())));
  const listLoaded = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/v1/releases' && response.ok());
  await page.goto('/releases');
  await listLoaded;
  await expect(page.getByTestId('stream-status')).toHaveText('Live');

  const refetches: number[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/v1/releases')) refetches.push(Date.now());
  });
  const id = await release();
  const row = page.locator(`[data-release-id="${id}"]`);
  await expect(row).toBeVisible();
  await expect(row).toContainText(service);
  await expect(row.getByTestId('phase-badge')).toHaveText('pending');

  await page.waitForTimeout(2500);
  expect(refetches.length, 'the new release arrives through a refetch the push caused').toBeGreaterThan(0);
  // Every request answers a pushed event (release.created, release.updated): none is a poll.
  for (const at of refetches)
    expect(
      pushes.some((push) => push <= at && at - push < 3000),
      'a releases request with no push before it',
    ).toBe(true);
});

test('the detail page charts the canary analysis and shows the judge evidence', async ({ page, api }) => {
  const analysis: Step = {
    type: 'analysis',
    interval: '2s',
    minDuration: '20s',
    maxDuration: '2m',
    metrics: [{ name: 'error-rate', kind: 'errors', tolerance: 1.5 }],
  };
  const { release } = await seed(api, { steps: [{ type: 'setWeight', weight: 10 }, analysis, { type: 'setWeight', weight: 100 }], metrics: true });
  const id = await release();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));

  // No worker measures anything here: graft looks of a degrading canary, in the shape the
  // worker's judge stores, onto the real reply.
  await page.route(`**/api/v1/releases/${id}`, async (route) => {
    const reply = await route.fetch();
    const json = (await reply.json()) as Record<string, unknown>;
    await route.fulfill({ response: reply, json: { ...json, measurements: Array.from({ length: 8 }, (_, seq) => look(seq)) } });
  });
  await page.goto(`/releases/${id}`);

  const section = page.getByTestId('release-analysis');
  await expect(section).toBeVisible();
  await expect(section).toContainText('8 looks of step 2');
  await expect(page.getByTestId('error-rate-chart').locator('.recharts-line')).toHaveCount(3);
  await expect(page.getByTestId('statistic-chart').locator('.recharts-line')).toHaveCount(3);
  // ln e 3.5 of ln(1/0.01) = 4.61
  await expect(page.getByTestId('threshold-progress')).toContainText('76%');

  const evidence = page.getByTestId('verdict-evidence');
  await expect(evidence).toContainText('inconclusive');
  await expect(evidence).toContainText('pushed metrics');
  const row = evidence.getByTestId('evidence-row');
  await expect(row).toHaveCount(1);
  for (const text of ['error-rate', '19 / 1,600', '32 / 6,400', '1.19%', '0.500%', '2.38×', '1.5×', '3.50 / 4.61']) await expect(row).toContainText(text);
  // In words: how far from a pass, how long a regression of the plan's size takes to catch, the noise allowed for.
  const notes = evidence.getByTestId('judge-notes');
  for (const text of [
    '10% of the evidence needed to rule out 3× the baseline',
    'about 3m 20s to catch at this traffic',
    'allowing for cv 60%, each event counting 1/2.5',
  ])
    await expect(notes).toContainText(text);
  expect(errors).toEqual([]);

  await page.screenshot({ path: analysisScreenshot, fullPage: true });
});

/** One look of the judge at an analysis step: the canary's error rate is about twice the baseline's. */
function look(seq: number) {
  const elapsedSeconds = 2 * (seq + 1);
  const at = new Date(Date.UTC(2026, 0, 1, 12, 0, elapsedSeconds)).toISOString();
  const side = (total: number, events: number) => ({ total, events, rate: events / total });
  const canary = side(100 * elapsedSeconds, Math.round(1.2 * elapsedSeconds));
  const baseline = side(400 * elapsedSeconds, 2 * elapsedSeconds);
  const logEValue = 0.5 * seq;
  const test = {
    test: 'conditional-binomial-mixture-sprt',
    label: 'errors',
    thresholdMs: null,
    canary,
    baseline,
    rateRatio: canary.rate / baseline.rate,
    tolerance: 1.5,
    alpha: 0.01,
    logEValue,
    maxLogEValue: logEValue,
    logThreshold: Math.log(100),
    outcome: 'inconclusive',
    dispersion: { blockSeconds: 60, blocks: 0, basis: 'prior', measuredCv: null, allowedCv: 0.6, varianceFactor: 2.5, poissonLogEValue: 2.5 * logEValue },
    expectedDetection: { rateRatio: 3, seconds: 200, canaryRequestsPerSecond: 50, baselineRequestsPerSecond: 200, baselineEventRate: 0.005, reason: null },
    passTest: { rateRatio: 3, beta: 0.05, logEValue: 0.3, logThreshold: Math.log(20) },
  };
  const reason = 'not enough evidence yet: error-rate';
  return {
    stepIndex: 1,
    attempt: 1,
    seq,
    elapsedSeconds,
    outcome: 'inconclusive',
    measuredAt: at,
    verdict: {
      outcome: 'inconclusive',
      reason,
      elapsedSeconds,
      at,
      alpha: 0.01,
      metrics: [{ name: 'error-rate', kind: 'errors', outcome: 'inconclusive', reason, alpha: 0.01, tests: [test] }],
      source: { type: 'pushed', from: new Date(Date.UTC(2026, 0, 1, 12)).toISOString(), to: at },
      noData: false,
      look: seq,
    },
  };
}
