import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect, ok, test } from '../fixtures.ts';

// A shadow release's page: the difference rates (shadow against live, live against itself), the
// fields that differ, sample answers and the judge's verdict, as a release manager reads them.

const screenshot = fileURLToPath(new URL('../test-results/release-detail-shadow.png', import.meta.url));

test('the release page shows a shadow comparison: both difference rates, the differing fields, samples and the verdict', async ({ page, api }) => {
  const suffix = randomBytes(4).toString('hex');
  const service = `search-${suffix}`;
  await ok(api.POST('/api/v1/services', { body: { name: service, description: 'e2e shadow release', owners: ['team-search'] } }), 'service');
  await ok(
    api.POST('/api/v1/environments', {
      body: { service, name: 'prod', position: 0, target: { type: 'recording', config: {} }, deployer: { type: 'none', config: {} }, slots: ['blue', 'green'] },
    }),
    'environment',
  );
  await ok(
    api.POST('/api/v1/plans', {
      body: {
        name: `shadow-${suffix}`,
        spec: {
          strategy: 'shadow',
          mirror: { url: 'http://127.0.0.1:9400' },
          analysis: { interval: '2s', maxDuration: '5m' },
          compare: { ignoreFields: ['timestamp', 'requestId', '$.meta.*'] },
        },
      },
    }),
    'plan',
  );
  await ok(api.POST('/api/v1/artifacts', { body: { service, version: '2.0.0', digest: `sha256:${randomBytes(32).toString('hex')}` } }), 'artifact');
  const release = await ok(
    api.POST('/api/v1/releases', { body: { service, environment: 'prod', version: '2.0.0', plan: `shadow-${suffix}`, reason: 'e2e' } }),
    'release',
  );
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // No worker or proxy here: graft the shadow gate's looks, in the shape the worker stores, onto the real reply.
  await page.route(`**/api/v1/releases/${release.id}`, async (route) => {
    const reply = await route.fetch();
    const json = (await reply.json()) as Record<string, unknown>;
    await route.fulfill({ response: reply, json: { ...json, measurements: Array.from({ length: 5 }, (_, seq) => look(seq, 5)) } });
  });
  await page.goto(`/releases/${release.id}`);

  await expect(page.getByText("copies GET, HEAD, OPTIONS via 127.0.0.1:9400 · differences ≤ 1.5× live's own")).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Shadow analysis' })).toBeVisible();
  const comparison = page.getByTestId('shadow-comparison');
  await expect(comparison.getByTestId('shadow-rate')).toContainText('20.00%');
  await expect(comparison.getByTestId('shadow-rate')).toContainText('200 of 1,000');
  await expect(comparison.getByTestId('live-rate')).toContainText('0.200%');
  await expect(comparison.getByTestId('shadow-fields')).toContainText('$.label');
  const samples = comparison.getByTestId('shadow-samples').locator('tbody tr');
  await expect(samples).toHaveCount(2);
  await expect(samples.nth(0)).toContainText('GET /items/5');
  await expect(samples.nth(1)).toContainText('no answer within 5000 ms');
  await expect(page.getByTestId('verdict-evidence')).toContainText('canary worse than baseline: differences');
  expect(errors).toEqual([]);
  await page.screenshot({ path: screenshot, fullPage: true });
});

/** One look: the shadow differs on 20% of answers, the live version on 0.2% of its second answers. */
function look(seq: number, count: number) {
  const elapsedSeconds = 2 * (seq + 1);
  const at = new Date(Date.UTC(2026, 0, 1, 12, 0, elapsedSeconds)).toISOString();
  const last = seq === count - 1;
  const n = 200 * (seq + 1);
  const side = (total: number, events: number) => ({ total, events, rate: events / total });
  const canary = side(n, n / 5);
  const baseline = side(n / 2, n / 1000);
  const differences = {
    test: 'conditional-binomial-mixture-sprt',
    label: 'ratio',
    thresholdMs: null,
    canary,
    baseline,
    rateRatio: canary.rate / baseline.rate,
    tolerance: 1.5,
    alpha: 0.0033,
    logEValue: 2.5 * seq,
    maxLogEValue: 2.5 * seq,
    logThreshold: Math.log(1 / 0.0033),
    outcome: last ? 'fail' : 'inconclusive',
  };
  const outcome = last ? 'fail' : 'inconclusive';
  const arm = (compared: number, differing: number, noAnswer = 0) => ({
    compared,
    differing,
    statusDiffering: noAnswer,
    bodyDiffering: differing - noAnswer,
    errors: noAnswer,
    noAnswer,
  });
  return {
    stepIndex: 0,
    attempt: 1,
    seq,
    elapsedSeconds,
    outcome,
    measuredAt: at,
    verdict: {
      outcome,
      reason: last ? 'canary worse than baseline: differences' : 'not enough evidence yet: differences, error-rate, latency',
      elapsedSeconds,
      at,
      alpha: 0.01,
      metrics: [
        {
          name: 'differences',
          kind: 'ratio',
          outcome,
          reason: last ? 'shadow differs 20% vs live 0.2%' : 'not enough evidence yet',
          alpha: 0.0033,
          tests: [differences],
        },
        { name: 'error-rate', kind: 'errors', outcome: 'inconclusive', reason: 'not enough evidence yet', alpha: 0.0033, tests: [] },
        { name: 'latency', kind: 'latency', outcome: 'inconclusive', reason: 'not enough evidence yet', alpha: 0.0033, tests: [] },
      ],
      source: {
        type: 'mirror',
        url: 'http://127.0.0.1:9400',
        session: 'r:0:1',
        slot: 'green',
        startedAt: new Date(Date.UTC(2026, 0, 1, 12)).toISOString(),
        shadow: {
          rates: { shadow: canary.rate, secondary: baseline.rate },
          shadow: arm(n, n / 5, 1),
          secondary: arm(n / 2, n / 1000),
          primary: { answered: n, errors: 0 },
          skipped: { method: n / 10, sample: 0, overloaded: 0, bodyTooLarge: 0 },
          fields: [
            { path: '$.label', shadow: n / 5 - 1, secondary: 0 },
            { path: '$.nonce', shadow: 0, secondary: n / 1000 },
          ],
          fieldsDropped: 0,
          samples: [
            {
              arm: 'shadow',
              method: 'GET',
              url: '/items/5',
              primaryStatus: 200,
              otherStatus: 200,
              primaryLatencyMs: 3.2,
              otherLatencyMs: 4.1,
              comparedAs: 'json',
              paths: ['$.label'],
              error: null,
            },
            {
              arm: 'shadow',
              method: 'GET',
              url: '/items/17',
              primaryStatus: 200,
              otherStatus: 0,
              primaryLatencyMs: 2.9,
              otherLatencyMs: null,
              comparedAs: 'none',
              paths: [],
              error: 'no answer within 5000 ms',
            },
          ],
          methods: ['GET', 'HEAD', 'OPTIONS'],
          ignoreFields: ['timestamp', 'requestId', '$.meta.*'],
        },
      },
      noData: false,
      look: seq,
    },
  };
}
