import { Link, useParams } from 'react-router';
import { useEnvironment, useService } from '../api/catalog.ts';
import { YamlBlock } from '../components/yaml-block.tsx';
import { formatDateTime } from '../format.ts';
import { AuditLog } from './audit-log.tsx';
import { EnvironmentSlots } from './environment-slots.tsx';
import { EnvironmentDrills } from './environment-drills.tsx';
import { readsAudit, useMe } from '../api/session.ts';

/** An environment as configured: where traffic goes, what is measured, who must agree. Secrets never come here. */
export function EnvironmentPage() {
  const { id = '' } = useParams();
  const me = useMe();
  const environment = useEnvironment(id);
  const service = useService(environment.data?.serviceId);
  if (environment.error) return <p className="error card">Could not load the environment: {environment.error.message}</p>;
  if (!environment.data) return <p className="muted">Loading…</p>;
  const e = environment.data;
  const policy = e.policy;
  return (
    <>
      <p className="muted">
        <Link to="/services">Services</Link> / {service.data ? <Link to={`/services/${service.data.id}`}>{service.data.name}</Link> : '…'} /
      </p>
      <h1>{e.name}</h1>
      <div className="grid">
        <section className="card">
          <h2>Policy</h2>
          <dl className="pairs" data-testid="environment-policy">
            <dt>Protected</dt>
            <dd>{policy.protected ? 'yes' : 'no'}</dd>
            <dt>Approvals needed</dt>
            <dd>{policy.requiredApprovals ?? 0}</dd>
            <dt>Approver group</dt>
            <dd>{policy.approverGroup ?? <span className="muted">anyone with the approver role</span>}</dd>
            <dt>Approvals expire after</dt>
            <dd>{policy.approvalExpiresAfter ?? <span className="muted">never</span>}</dd>
            <dt>Deploy windows</dt>
            <dd>{policy.windows?.length ? `${policy.windows.length} window(s)` : <span className="muted">any time</span>}</dd>
            <dt>Freezes</dt>
            <dd>
              {policy.freezes?.length ? (
                <ul className="plain">
                  {policy.freezes.map((f) => (
                    <li key={`${f.from}-${f.to}`}>
                      {formatDateTime(f.from)} – {formatDateTime(f.to)}
                      {f.reason && <span className="muted"> ({f.reason})</span>}
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="muted">none</span>
              )}
            </dd>
            <dt>Break-glass</dt>
            <dd>{policy.breakGlass === false ? 'not allowed' : 'allowed for admins'}</dd>
            <dt>Needs the previous stage</dt>
            <dd>{e.requireUpstreamSuccess ? 'yes: a digest must have succeeded in the environment before' : 'no'}</dd>
          </dl>
          <details>
            <summary>Policy as YAML</summary>
            <YamlBlock value={e.policy} label="Policy as YAML" />
          </details>
        </section>
        <section className="card">
          <h2>Traffic router</h2>
          <p>
            <code>{e.target.type}</code>
          </p>
          <YamlBlock value={e.target.config} label="Traffic router configuration" />
          <h2>Metrics source</h2>
          {e.metrics ? (
            <>
              <p>
                <code>{e.metrics.type}</code>
              </p>
              <YamlBlock value={e.metrics.config} label="Metrics source configuration" />
            </>
          ) : (
            <p className="muted">None: analysis steps cannot run here.</p>
          )}
          <dl className="pairs">
            <dt>Smoke checks go to</dt>
            <dd>{e.smokeBaseUrl ? <code>{e.smokeBaseUrl}</code> : <span className="muted">—</span>}</dd>
            <dt>Metrics ingest key</dt>
            <dd data-testid="ingest-key">{e.hasIngestKey ? 'set (shown only when it was made)' : <span className="muted">none</span>}</dd>
          </dl>
          <p className="muted small">Secrets (signing secrets, passwords in URLs, keys) are never shown here.</p>
        </section>
      </div>
      <EnvironmentSlots environment={e} />
      <EnvironmentDrills environment={e} service={service.data?.name} />
      {readsAudit(me.data) && <AuditLog filter={{ environmentId: e.id }} title="Activity here" />}
    </>
  );
}
