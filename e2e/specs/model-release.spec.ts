import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Schemas } from '@glidepath/client';
import { expect, ok, test } from '../fixtures.ts';

// An ML model's release: the page shows the model version, data set and model card beside the
// judge's verdicts, here a quality metric (wrong predictions on labelled feedback) that failed.

const screenshot = fileURLToPath(new URL('../test-results/release-detail-model.png', import.meta.url));

type Step = Extract<Schemas['PlanSpec'], { strategy: 'canary' }>['steps'][number];

test('the release page shows the model, its data set and card beside the quality verdicts', async ({ page, api }) => {
  const suffix = randomBytes(4).toString('hex');
  const service = `recommender-${suffix}`;
  const analysis: Step = {
    type: 'analysis',
    interval: '2s',
    minDuration: '20s',
    maxDuration: '2m',
    metrics: [
      { name: 'error-rate', kind: 'errors' },
      { name: 'prediction_errors', kind: 'ratio', direction: 'higher-is-worse', tolerance: 1.2 },
      { name: 'click_through', kind: 'ratio', direction: 'lower-is-worse' },
    ],
  };
  await ok(api.POST('/api/v1/services', { body: { name: service, description: 'e2e model release', owners: ['team-ml'] } }), 'service');
  await ok(
    api.POST('/api/v1/environments', {
      body: { service, name: 'dev', position: 0, target: { type: 'recording', config: {} }, metrics: { type: 'pushed', config: {} } },
    }),
    'environment',
  );
  await ok(
    api.POST('/api/v1/plans', {
      body: {
        name: `quality-${suffix}`,
        spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 10 }, analysis, { type: 'setWeight', weight: 100 }] },
      },
    }),
    'plan',
  );
  await ok(
    api.POST('/api/v1/artifacts', {
      body: {
        service,
        version: '2.0.0',
        digest: `sha256:${randomBytes(32).toString('hex')}`,
        metadata: { modelVersion: 'reco-2026-11', dataset: 's3://ml/reco/labelled-2026-11', modelCard: 'https://models.example.com/reco/2026-11' },
      },
    }),
    'artifact',
  );
  const release = await ok(
    api.POST('/api/v1/releases', { body: { service, environment: 'dev', version: '2.0.0', plan: `quality-${suffix}`, reason: 'e2e' } }),
    'release',
  );
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // No worker measures here: graft the judge's looks, in the shape the worker stores, onto the real reply.
  await page.route(`**/api/v1/releases/${release.id}`, async (route) => {
    const reply = await route.fetch();
    const json = (await reply.json()) as Record<string, unknown>;
    await route.fulfill({ response: reply, json: { ...json, measurements: Array.from({ length: 6 }, (_, seq) => look(seq, 6)) } });
  });
  await page.goto(`/releases/${release.id}`);

  // A business outcome where a drop is the regression reads as such in the plan's steps.
  await expect(page.getByText('prediction_errors ≤ 1.2× baseline, click_through ≥ baseline ÷ 1.5')).toBeVisible();
  const model = page.getByTestId('release-model');
  await expect(model).toContainText('reco-2026-11');
  await expect(model).toContainText('s3://ml/reco/labelled-2026-11');
  const card = model.getByRole('link', { name: 'https://models.example.com/reco/2026-11' });
  await expect(card).toHaveAttribute('href', 'https://models.example.com/reco/2026-11');
  await expect(card).toHaveAttribute('rel', 'noopener noreferrer');

  // The charts open on the test that failed, not on error rate.
  await expect(page.getByTestId('release-analysis').getByRole('combobox')).toHaveValue('prediction_errors · ratio');
  const evidence = page.getByTestId('verdict-evidence');
  await expect(evidence).toContainText('canary worse than baseline: prediction_errors');
  const rows = evidence.getByTestId('evidence-row');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(1)).toContainText('prediction_errors');
  await expect(rows.nth(1)).toContainText('fail');
  // Lower is worse: the tolerance reads as a division of the baseline's rate.
  for (const text of ['click_through', 'ratio (lower is worse)', '3.00%', '1.00×', '÷1.5']) await expect(rows.nth(2)).toContainText(text);
  expect(errors).toEqual([]);
  await page.screenshot({ path: screenshot, fullPage: true });
});

/** One look: errors the same on both versions, the canary's predictions wrong three times as often. */
function look(seq: number, count: number) {
  const elapsedSeconds = 2 * (seq + 1);
  const at = new Date(Date.UTC(2026, 0, 1, 12, 0, elapsedSeconds)).toISOString();
  const side = (total: number, events: number) => ({ total, events, rate: events / total });
  const last = seq === count - 1;
  const test = (label: string, canary: ReturnType<typeof side>, baseline: ReturnType<typeof side>, logEValue: number, outcome: string) => ({
    test: 'conditional-binomial-mixture-sprt',
    label,
    thresholdMs: null,
    canary,
    baseline,
    rateRatio: canary.rate / baseline.rate,
    tolerance: label === 'errors' ? 1.5 : 1.2,
    alpha: 0.005,
    logEValue,
    maxLogEValue: logEValue,
    logThreshold: Math.log(200),
    outcome,
  });
  const errorsTest = test('errors', side(100 * elapsedSeconds, elapsedSeconds), side(900 * elapsedSeconds, 9 * elapsedSeconds), -0.1 * seq, 'inconclusive');
  const qualityTest = test(
    'ratio',
    side(50 * elapsedSeconds, Math.round(7.5 * elapsedSeconds)),
    side(450 * elapsedSeconds, Math.round(22.5 * elapsedSeconds)),
    1.2 * seq,
    last ? 'fail' : 'inconclusive',
  );
  const clicks = {
    ...test(
      'ratio (lower is worse)',
      side(100 * elapsedSeconds, 3 * elapsedSeconds),
      side(900 * elapsedSeconds, 27 * elapsedSeconds),
      -0.05 * seq,
      'inconclusive',
    ),
    tolerance: 1.5,
    direction: 'lower-is-worse',
  };
  const outcome = last ? 'fail' : 'inconclusive';
  const reason = last ? 'canary worse than baseline: prediction_errors' : 'not enough evidence yet: error-rate, prediction_errors';
  return {
    stepIndex: 1,
    attempt: 1,
    seq,
    elapsedSeconds,
    outcome,
    measuredAt: at,
    verdict: {
      outcome,
      reason,
      elapsedSeconds,
      at,
      alpha: 0.01,
      metrics: [
        { name: 'error-rate', kind: 'errors', outcome: 'inconclusive', reason: 'not enough evidence yet', alpha: 0.005, tests: [errorsTest] },
        {
          name: 'prediction_errors',
          kind: 'ratio',
          outcome,
          reason: last ? 'ratio: canary 15% vs baseline 5%, e-value ≥ 1/0.005' : 'not enough evidence yet',
          alpha: 0.005,
          tests: [qualityTest],
        },
        { name: 'click_through', kind: 'ratio', outcome: 'inconclusive', reason: 'not enough evidence yet', alpha: 0.005, tests: [clicks] },
      ],
      source: { type: 'pushed', from: new Date(Date.UTC(2026, 0, 1, 12)).toISOString(), to: at },
      noData: false,
      look: seq,
    },
  };
}
