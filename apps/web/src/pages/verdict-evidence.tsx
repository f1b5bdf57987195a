import type { Measurement, MetricVerdict, TestEvidence } from '../api/model.ts';
import { OutcomeBadge } from '../components/phase-badge.tsx';
import { formatDuration, formatNumber, formatRate, formatWhen } from '../format.ts';
import { progressToThreshold } from './analysis-series.ts';
import { JudgeNotes } from './judge-notes.tsx';

/** The judge's evidence of one look: per metric and test, the counts, rates and statistic behind the outcome. */
export function VerdictEvidence({ measurement }: { measurement: Measurement }) {
  const { verdict } = measurement;
  return (
    <div className="evidence" data-testid="verdict-evidence">
      <div className="evidence-head">
        <h3>Latest verdict</h3>
        <OutcomeBadge outcome={verdict.outcome} />
        <span>{verdict.reason}</span>
      </div>
      <p className="muted evidence-meta">
        {formatDuration(measurement.elapsedSeconds * 1000)} into the step ({formatWhen(measurement.measuredAt)}) · release-level α {verdict.alpha}
        {verdict.source && ` · ${typeof verdict.source === 'object' ? `${verdict.source.type} metrics` : String(verdict.source)}`}
        {verdict.noData && <span className="error"> · no data from the metrics source</span>}
      </p>
      <table className="table evidence-table">
        <thead>
          <tr>
            <th>Metric / test</th>
            <th className="num">Canary</th>
            <th className="num">Baseline</th>
            <th className="num">Canary rate</th>
            <th className="num">Baseline rate</th>
            <th className="num">Ratio</th>
            <th className="num">Tolerance</th>
            <th className="num keep-case">α</th>
            <th>ln e-value vs threshold</th>
            <th>Outcome</th>
          </tr>
        </thead>
        <tbody>
          {(verdict.metrics ?? []).flatMap((metric) =>
            metric.tests.length > 0
              ? metric.tests.map((test) => <TestRow key={`${metric.name}-${test.label}`} metric={metric} test={test} />)
              : [<EmptyMetricRow key={metric.name} metric={metric} />],
          )}
          {(verdict.metrics ?? []).length === 0 && (
            <tr>
              <td colSpan={10} className="muted empty">
                No metric was measured in this look.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <JudgeNotes metrics={verdict.metrics ?? []} />
    </div>
  );
}

function MetricName({ metric, label }: { metric: MetricVerdict; label?: string }) {
  return (
    <span className="metric-name" title={metric.reason}>
      <strong>{metric.name}</strong>
      {label && label !== metric.name && <span className="muted"> · {label}</span>}
    </span>
  );
}

function TestRow({ metric, test }: { metric: MetricVerdict; test: TestEvidence }) {
  // A lower-is-worse ratio (conversion, accuracy) is out of bounds below 1 / tolerance.
  const lower = test.direction === 'lower-is-worse';
  const ratioOver = test.rateRatio !== null && (lower ? test.rateRatio < 1 / test.tolerance : test.rateRatio > test.tolerance);
  return (
    <tr data-testid="evidence-row">
      <td>
        <MetricName metric={metric} label={test.label} />
      </td>
      <td className="num nowrap">
        {formatNumber(test.canary.events)} / {formatNumber(test.canary.total)}
      </td>
      <td className="num nowrap">
        {formatNumber(test.baseline.events)} / {formatNumber(test.baseline.total)}
      </td>
      <td className="num">{formatRate(test.canary.rate)}</td>
      <td className="num">{formatRate(test.baseline.rate)}</td>
      <td className={`num${ratioOver ? ' error' : ''}`}>{test.rateRatio === null ? '—' : `${test.rateRatio.toFixed(2)}×`}</td>
      <td className="num" title={lower ? 'lower is worse: fails below the baseline ÷ tolerance' : undefined}>
        {lower ? `÷${test.tolerance}` : `${test.tolerance}×`}
      </td>
      <td className="num">{formatNumber(test.alpha, 4)}</td>
      <td>
        <EValueMeter test={test} />
      </td>
      <td>
        <OutcomeBadge outcome={test.outcome} />
      </td>
    </tr>
  );
}

function EmptyMetricRow({ metric }: { metric: MetricVerdict }) {
  return (
    <tr data-testid="evidence-row">
      <td>
        <MetricName metric={metric} />
      </td>
      <td colSpan={8} className="muted">
        {metric.reason}
      </td>
      <td>
        <OutcomeBadge outcome={metric.outcome} />
      </td>
    </tr>
  );
}

/** The running maximum of ln e against ln(1/α), with a bar of how close the test is to failing. */
function EValueMeter({ test }: { test: TestEvidence }) {
  const progress = progressToThreshold(test);
  const tone = test.outcome === 'fail' ? 'bad' : progress !== null && progress >= 0.75 ? 'warn' : '';
  return (
    <span className="meter" title={`ln e-value now ${fixed(test.logEValue)}, running max ${fixed(test.maxLogEValue)}, threshold ${fixed(test.logThreshold)}`}>
      <span className="nowrap">
        {fixed(test.maxLogEValue)} / {fixed(test.logThreshold)}
      </span>
      {progress !== null && (
        <span className="meter-track">
          <span className={`meter-fill ${tone}`} style={{ width: `${progress * 100}%` }} />
        </span>
      )}
    </span>
  );
}

const fixed = (value: number | null) => (value === null ? '—' : value.toFixed(2));
