import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, unwrap } from '../api/http.ts';
import type { DoraReply } from '../api/model.ts';
import { formatDuration } from '../format.ts';

type Figures = DoraReply['items'][number];

const PERIODS = [7, 30, 90] as const;
const axis = { fontSize: 12, fill: '#6b7588' };
const seconds = (s: number | null) => (s === null ? '—' : formatDuration(s * 1000));

/** DORA figures from Glidepath's own releases (GET /api/v1/dora), with daily trends. */
export function DoraPage() {
  const [days, setDays] = useState<(typeof PERIODS)[number]>(30);
  const { data, error, isPending } = useQuery({
    queryKey: ['dora', days],
    queryFn: () => {
      const to = new Date();
      const from = new Date(to.getTime() - days * 86_400_000);
      return unwrap(api.GET('/api/v1/dora', { params: { query: { from: from.toISOString(), to: to.toISOString() } } }));
    },
  });
  return (
    <>
      <div className="page-head">
        <h1>DORA metrics</h1>
        <label className="filter">
          Period
          <select value={days} onChange={(event) => setDays(Number(event.target.value) as (typeof PERIODS)[number])}>
            {PERIODS.map((p) => (
              <option key={p} value={p}>
                last {p} days
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && <p className="error">Could not load the figures: {error.message}</p>}
      {isPending ? (
        <p className="muted">Loading…</p>
      ) : data?.items.length ? (
        data.items.map((f) => <EnvironmentFigures key={`${f.service}/${f.environment}`} figures={f} />)
      ) : (
        <section className="card">
          <p>No release reached an outcome in this period.</p>
        </section>
      )}
    </>
  );
}

function EnvironmentFigures({ figures: f }: { figures: Figures }) {
  return (
    <section className="card" data-testid="dora-card">
      <div className="card-head">
        <h2>
          {f.service} → {f.environment}
        </h2>
        {f.lastEnvironment && <span className="muted">last environment: the service's lead time</span>}
      </div>
      <dl className="facts">
        <div>
          <dt>Deployment frequency</dt>
          <dd data-testid="dora-frequency">
            {f.deploymentsPerDay.toFixed(2)} a day <span className="muted">({f.deployments} deployments)</span>
          </dd>
        </div>
        <div>
          <dt>Lead time for changes</dt>
          <dd>
            {seconds(f.leadTime.medianSeconds)} <span className="muted">median of {f.leadTime.count}</span>
          </dd>
        </div>
        <div>
          <dt>Change failure rate</dt>
          <dd data-testid="dora-failure-rate">
            {f.changeFailureRate === null ? '—' : `${(f.changeFailureRate * 100).toFixed(1)}%`}{' '}
            <span className="muted">
              ({f.failures} of {f.deployments})
            </span>
          </dd>
        </div>
        <div>
          <dt>Time to restore</dt>
          <dd>
            {seconds(f.timeToRestore.medianSeconds)} <span className="muted">median of {f.timeToRestore.count}</span>
            {f.timeToRestore.unrestored > 0 && <span className="muted">, {f.timeToRestore.unrestored} not restored yet</span>}
          </dd>
        </div>
      </dl>
      <figure className="chart">
        <figcaption>
          <strong>Deployments a day</strong>
          <span className="muted">failed or rolled back in red</span>
        </figcaption>
        <ResponsiveContainer width="100%" height={180}>
          <BarChart data={f.daily.map((d) => ({ ...d, succeeded: d.deployments - d.failures }))} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#eef1f5" vertical={false} />
            <XAxis dataKey="day" tick={axis} stroke="#cbd5e1" />
            <YAxis allowDecimals={false} tick={axis} stroke="#cbd5e1" width={32} />
            <Tooltip />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Bar dataKey="succeeded" stackId="d" fill="#16a34a" isAnimationActive={false} />
            <Bar dataKey="failures" name="failed or rolled back" stackId="d" fill="#dc2626" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </figure>
    </section>
  );
}
