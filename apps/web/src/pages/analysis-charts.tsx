import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatDuration } from '../format.ts';
import type { ErrorRatePoint, StatisticPoint } from './analysis-series.ts';

export const chartColors = { canary: '#ea580c', baseline: '#2563eb', limit: '#94a3b8', statistic: '#7c3aed', threshold: '#dc2626' };

const axis = { fontSize: 12, fill: '#6b7588' };
const elapsedTick = (seconds: number) => formatDuration(seconds * 1000);
const tooltipLabel = (label: unknown) => `${elapsedTick(Number(label))} into the analysis`;

const elapsedAxis = { dataKey: 'elapsed', type: 'number', domain: [0, 'dataMax'], tickFormatter: elapsedTick, tick: axis, stroke: '#cbd5e1' } as const;

export function ErrorRateChart({ data }: { data: ErrorRatePoint[] }) {
  const pct = (value: unknown) => (typeof value === 'number' ? `${value < 1 ? value.toFixed(3) : value.toFixed(2)}%` : '—');
  return (
    <figure className="chart" data-testid="error-rate-chart">
      <figcaption>
        <strong>Error rate</strong>
        <span className="muted">canary vs baseline, cumulative since the step started</span>
      </figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eef1f5" vertical={false} />
          <XAxis {...elapsedAxis} />
          <YAxis tickFormatter={(v: number) => `${v}%`} tick={axis} stroke="#cbd5e1" width={56} domain={[0, 'auto']} />
          <Tooltip formatter={(value) => pct(value)} labelFormatter={tooltipLabel} />
          <Legend iconType="plainline" wrapperStyle={{ fontSize: 12 }} />
          <Line name="canary" dataKey="canary" stroke={chartColors.canary} strokeWidth={2} dot={false} isAnimationActive={false} />
          <Line name="baseline" dataKey="baseline" stroke={chartColors.baseline} strokeWidth={2} dot={false} isAnimationActive={false} />
          <Line
            name="tolerance × baseline"
            dataKey="limit"
            stroke={chartColors.limit}
            strokeDasharray="5 4"
            strokeWidth={1.5}
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

export function StatisticChart({ data, label }: { data: StatisticPoint[]; label: string }) {
  const ln = (value: unknown) => (typeof value === 'number' ? value.toFixed(2) : '—');
  return (
    <figure className="chart" data-testid="statistic-chart">
      <figcaption>
        <strong>Evidence against the canary</strong>
        <span className="muted">ln e-value of {label}; rollback when the maximum reaches the threshold</span>
      </figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eef1f5" vertical={false} />
          <XAxis {...elapsedAxis} />
          <YAxis
            tick={axis}
            stroke="#cbd5e1"
            width={56}
            domain={[(min: number) => Math.min(0, Math.floor(min)), (max: number) => Math.ceil(max * 1.1)]}
            allowDecimals={false}
            tickCount={6}
          />
          <Tooltip formatter={(value) => ln(value)} labelFormatter={tooltipLabel} />
          <Legend iconType="plainline" wrapperStyle={{ fontSize: 12 }} />
          <Line name="max ln e-value" dataKey="max" stroke={chartColors.statistic} strokeWidth={2} dot={false} isAnimationActive={false} />
          <Line
            name="ln e-value now"
            dataKey="current"
            stroke={chartColors.statistic}
            strokeOpacity={0.45}
            strokeWidth={1.5}
            dot={false}
            isAnimationActive={false}
          />
          <Line
            name="threshold ln(1/α)"
            dataKey="threshold"
            type="stepAfter"
            stroke={chartColors.threshold}
            strokeDasharray="6 4"
            strokeWidth={1.5}
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
