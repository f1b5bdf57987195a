import { useState } from 'react';
import type { ReleaseDetail } from '../api/model.ts';
import {
  analysisRuns,
  defaultTest,
  errorRateSeries,
  findTest,
  progressToThreshold,
  statisticSeries,
  testKey,
  testsOf,
  type AnalysisRun,
} from './analysis-series.ts';
import { ErrorRateChart, StatisticChart } from './analysis-charts.tsx';
import { ReleaseModel } from './release-model.tsx';
import { ShadowComparison } from './shadow-comparison.tsx';
import { VerdictEvidence } from './verdict-evidence.tsx';

/** Charts and evidence of the canary judge, one analysis step (and attempt) at a time. */
export function ReleaseAnalysis({ release }: { release: ReleaseDetail }) {
  const runs = analysisRuns(release.measurements ?? []);
  const hasAnalysis = release.steps.some((step) => step.spec.type === 'analysis' || step.spec.type === 'shadow');
  const shadow = release.steps.some((step) => step.spec.type === 'shadow');
  const [selected, setSelected] = useState<string | null>(null);
  const model = release.artifact.model;
  if (!hasAnalysis && runs.length === 0)
    return model ? (
      <section className="card">
        <h2>Model</h2>
        <ReleaseModel model={model} />
      </section>
    ) : null;

  // Follow the newest run until the user picks one.
  const run = runs.find((r) => r.key === selected) ?? runs.at(-1);
  return (
    <section className="card" data-testid="release-analysis">
      <div className="card-head">
        <h2>{shadow ? 'Shadow analysis' : 'Canary analysis'}</h2>
        {runs.length > 1 && (
          <div className="tabs" role="tablist">
            {runs.map((r) => (
              <button
                key={r.key}
                type="button"
                role="tab"
                aria-selected={r === run}
                className={r === run ? 'tab active' : 'tab'}
                onClick={() => setSelected(r.key)}
              >
                step {r.stepIndex + 1}
                {r.attempt > 1 && ` · attempt ${r.attempt}`}
              </button>
            ))}
          </div>
        )}
      </div>
      {model && <ReleaseModel model={model} />}
      {run ? <AnalysisRunView key={run.key} run={run} /> : <p className="muted">No measurements yet: the analysis has not looked at the canary.</p>}
    </section>
  );
}

function AnalysisRunView({ run }: { run: AnalysisRun }) {
  const tests = testsOf(run);
  const [picked, setPicked] = useState<string | null>(null);
  const test = tests.find((t) => testKey(t) === picked) ?? defaultTest(run, tests);
  const latest = run.measurements.at(-1)!;
  const latestTest = test && findTest(latest.verdict, test);
  const progress = latestTest && progressToThreshold(latestTest);

  return (
    <>
      <div className="analysis-summary">
        <span className="muted">
          {run.measurements.length} look{run.measurements.length === 1 ? '' : 's'} of step {run.stepIndex + 1}
          {run.attempt > 1 && `, attempt ${run.attempt}`}
        </span>
        {progress !== null && progress !== undefined && (
          <span data-testid="threshold-progress">
            <strong>{Math.round(progress * 100)}%</strong> <span className="muted">of the way to the rollback threshold</span>
          </span>
        )}
        {tests.length > 1 && test && (
          <label className="filter">
            Test
            <select value={testKey(test)} onChange={(event) => setPicked(event.target.value)}>
              {tests.map((t) => (
                <option key={testKey(t)} value={testKey(t)}>
                  {testKey(t)}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <div className="charts">
        <ErrorRateChart data={errorRateSeries(run)} />
        {test ? <StatisticChart data={statisticSeries(run, test)} label={testKey(test)} /> : <p className="muted">No test has reported a statistic yet.</p>}
      </div>
      <VerdictEvidence measurement={latest} />
      <ShadowComparison measurement={latest} />
    </>
  );
}
