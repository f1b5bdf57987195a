import { Link, useParams, useSearchParams } from 'react-router';
import { usePlan, usePlans, usePlanVersions } from '../api/catalog.ts';
import { Actor } from '../components/short-id.tsx';
import { YamlBlock } from '../components/yaml-block.tsx';
import { formatDateTime } from '../format.ts';

export function PlansPage() {
  const plans = usePlans();
  const items = plans.data?.items ?? [];
  return (
    <>
      <h1>Release plans</h1>
      <section className="card">
        {plans.error && <p className="error">Could not load plans: {plans.error.message}</p>}
        <table className="table" aria-label="Release plans">
          <thead>
            <tr>
              <th>Plan</th>
              <th>Strategy</th>
              <th>Steps</th>
              <th>Latest version</th>
              <th>Saved</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => {
              const spec = p.spec as { strategy?: string; steps?: unknown[] };
              return (
                <tr key={p.id} data-testid="plan-row">
                  <td>
                    <Link to={`/plans/${encodeURIComponent(p.name)}`}>
                      <strong>{p.name}</strong>
                    </Link>
                  </td>
                  <td>{spec.strategy ?? '—'}</td>
                  <td>{spec.steps?.length ?? '—'}</td>
                  <td>v{p.version}</td>
                  <td className="nowrap">
                    {formatDateTime(p.createdAt)} <Actor actorId={p.createdBy} />
                  </td>
                </tr>
              );
            })}
            {!plans.isPending && items.length === 0 && (
              <tr>
                <td colSpan={5} className="muted empty">
                  No plans yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
    </>
  );
}

/** A plan as YAML, any of its versions; versions never change, so a release always shows what it ran. */
export function PlanPage() {
  const { name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const asked = Number(params.get('version')) || undefined;
  const plan = usePlan(name, asked);
  const versions = usePlanVersions(name);
  const latest = versions.data?.items[0]?.version;
  return (
    <>
      <p className="muted">
        <Link to="/plans">Release plans</Link> /
      </p>
      <h1>
        {name} {plan.data && <span className="muted">v{plan.data.version}</span>}
        {plan.data && latest !== undefined && plan.data.version !== latest && <span className="pill"> not the latest (v{latest})</span>}
      </h1>
      {plan.error && <p className="error card">Could not load the plan: {plan.error.message}</p>}
      <div className="plan-layout">
        <section className="card">
          <h2>Plan</h2>
          {plan.data ? <YamlBlock value={plan.data.spec} label={`Plan ${name} version ${plan.data.version} as YAML`} /> : <p className="muted">Loading…</p>}
        </section>
        <section className="card">
          <h2>Versions</h2>
          <ol className="versions" aria-label="Versions">
            {(versions.data?.items ?? []).map((v) => (
              <li key={v.version}>
                <button
                  type="button"
                  className={`link${plan.data?.version === v.version ? ' current' : ''}`}
                  aria-current={plan.data?.version === v.version ? 'true' : undefined}
                  onClick={() => setParams(v.version === latest ? {} : { version: String(v.version) })}
                >
                  v{v.version}
                </button>{' '}
                <span className="muted">{formatDateTime(v.createdAt)}</span> <Actor actorId={v.createdBy} />
              </li>
            ))}
          </ol>
        </section>
      </div>
    </>
  );
}
