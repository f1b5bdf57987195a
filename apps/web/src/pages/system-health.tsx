import { useReadiness } from '../api/health.ts';
import type { DependencyCheck } from '../api/model.ts';

export function SystemHealth() {
  const { data, error, isPending } = useReadiness();
  return (
    <section className="card" data-testid="system-health">
      <h2>System health</h2>
      {isPending ? (
        <p className="muted">Checking…</p>
      ) : error && !data ? (
        <p className="error">API unreachable: {error.message}</p>
      ) : (
        <dl className="checks">
          <Check name="postgres" check={data.checks.postgres} />
          <Check name="redis" check={data.checks.redis} />
        </dl>
      )}
    </section>
  );
}

function Check({ name, check }: { name: string; check: DependencyCheck }) {
  return (
    <div data-testid={`check-${name}`}>
      <dt>{name}</dt>
      <dd>
        <span className={`pill ${check.ok ? 'ok' : 'bad'}`}>{check.ok ? 'ok' : 'down'}</span>
        <span className="muted">{check.ok ? `${check.latencyMs} ms` : check.error}</span>
      </dd>
    </div>
  );
}
