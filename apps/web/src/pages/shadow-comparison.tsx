import type { Measurement } from '../api/model.ts';
import { formatNumber, formatRate } from '../format.ts';

type Comparison = NonNullable<NonNullable<Measurement['verdict']['source']>['shadow']>;

/**
 * What a shadow step compared, from its latest look: how often the new version's answers differ
 * from the live version's, against how often the live version differs from itself (the judge's
 * baseline), the fields that differ most, and the first differing answers (paths and statuses:
 * the proxy keeps no bodies).
 */
export function ShadowComparison({ measurement }: { measurement: Measurement }) {
  const shadow = measurement.verdict.source?.shadow;
  if (!shadow) return null;
  const skipped = shadow.skipped;
  return (
    <div className="evidence shadow-comparison" data-testid="shadow-comparison">
      <div className="evidence-head">
        <h3>Shadow comparison</h3>
        <span className="muted">
          slot {measurement.verdict.source?.slot ?? '—'} · copies {shadow.methods.join(', ')}
          {shadow.ignoreFields.length > 0 && ` · ignores ${shadow.ignoreFields.join(', ')}`}
        </span>
      </div>
      <dl className="facts">
        <Rate label="Shadow differs from live" rate={shadow.rates.shadow} arm={shadow.shadow} testId="shadow-rate" />
        <Rate label="Live differs from itself (baseline)" rate={shadow.rates.secondary} arm={shadow.secondary} testId="live-rate" />
        <div>
          <dt>Shadow errors</dt>
          <dd>
            {formatNumber(shadow.shadow.errors)}{' '}
            <span className="muted">
              ({formatNumber(shadow.shadow.noAnswer)} without answer; live {formatNumber(shadow.primary.errors)})
            </span>
          </dd>
        </div>
        <div>
          <dt>Not copied</dt>
          <dd>
            {formatNumber(skipped.method + skipped.sample + skipped.overloaded + skipped.bodyTooLarge)}{' '}
            <span className="muted">
              (method {formatNumber(skipped.method)}, sampled out {formatNumber(skipped.sample)}, overloaded {formatNumber(skipped.overloaded)}, too large{' '}
              {formatNumber(skipped.bodyTooLarge)})
            </span>
          </dd>
        </div>
      </dl>
      {shadow.fields.length > 0 && (
        <table className="table evidence-table" data-testid="shadow-fields">
          <thead>
            <tr>
              <th>Field that differs</th>
              <th className="num">Shadow vs live</th>
              <th className="num">Live vs live</th>
            </tr>
          </thead>
          <tbody>
            {shadow.fields.map((f) => (
              <tr key={f.path}>
                <td>
                  <code>{f.path}</code>
                </td>
                <td className="num">{formatNumber(f.shadow)}</td>
                <td className="num">{formatNumber(f.secondary)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shadow.samples.length > 0 && (
        <table className="table evidence-table" data-testid="shadow-samples">
          <thead>
            <tr>
              <th>Sample</th>
              <th>Request</th>
              <th className="num">Live status</th>
              <th className="num">Other status</th>
              <th className="num">Live ms</th>
              <th className="num">Other ms</th>
              <th>What differs</th>
            </tr>
          </thead>
          <tbody>
            {shadow.samples.map((s, i) => (
              <tr key={i}>
                <td>{s.arm === 'shadow' ? 'shadow' : 'live again'}</td>
                <td>
                  <code>
                    {s.method} {s.url}
                  </code>
                </td>
                <td className="num">{s.primaryStatus}</td>
                <td className="num">{s.otherStatus || '—'}</td>
                <td className="num">{formatNumber(s.primaryLatencyMs, 1)}</td>
                <td className="num">{formatNumber(s.otherLatencyMs, 1)}</td>
                <td>{s.error ?? (s.paths.length > 0 ? s.paths.join(', ') : s.comparedAs === 'bytes' ? 'the body (compared as bytes)' : 'the status')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Rate({ label, rate, arm, testId }: { label: string; rate: number | null; arm: Comparison['shadow']; testId: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd data-testid={testId}>
        <strong>{formatRate(rate)}</strong>{' '}
        <span className="muted">
          ({formatNumber(arm.differing)} of {formatNumber(arm.compared)}; status {formatNumber(arm.statusDiffering)}, body {formatNumber(arm.bodyDiffering)})
        </span>
      </dd>
    </div>
  );
}
