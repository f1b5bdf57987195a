import { Link, useParams } from 'react-router';
import { useEnvironments, useService, useServices } from '../api/catalog.ts';
import { formatDateTime } from '../format.ts';
import { ArtifactsTable } from './artifacts.page.tsx';
import { AuditLog } from './audit-log.tsx';
import { readsAudit, useMe } from '../api/session.ts';

export function ServicesPage() {
  const services = useServices();
  const environments = useEnvironments();
  const items = services.data?.items ?? [];
  return (
    <>
      <h1>Services</h1>
      <section className="card">
        {services.error && <p className="error">Could not load services: {services.error.message}</p>}
        <table className="table" aria-label="Services">
          <thead>
            <tr>
              <th>Service</th>
              <th>Owners</th>
              <th>Environments (promotion order)</th>
              <th>Registered</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id} data-testid="service-row">
                <td>
                  <Link to={`/services/${s.id}`}>
                    <strong>{s.name}</strong>
                  </Link>
                  {s.description && <div className="muted">{s.description}</div>}
                </td>
                <td>{s.owners.length ? s.owners.join(', ') : <span className="muted">—</span>}</td>
                <td>
                  {(environments.data?.items ?? [])
                    .filter((e) => e.serviceId === s.id)
                    .map((e, i) => (
                      <span key={e.id}>
                        {i > 0 && ' → '}
                        <Link to={`/environments/${e.id}`}>{e.name}</Link>
                      </span>
                    ))}
                </td>
                <td className="nowrap">{formatDateTime(s.createdAt)}</td>
              </tr>
            ))}
            {!services.isPending && items.length === 0 && (
              <tr>
                <td colSpan={4} className="muted empty">
                  No services you may see yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
    </>
  );
}

export function ServicePage() {
  const { id = '' } = useParams();
  const me = useMe();
  const service = useService(id);
  const environments = useEnvironments(service.data?.name, Boolean(service.data));
  if (service.error) return <p className="error card">Could not load the service: {service.error.message}</p>;
  if (!service.data) return <p className="muted">Loading…</p>;
  const s = service.data;
  return (
    <>
      <p className="muted">
        <Link to="/services">Services</Link> /
      </p>
      <h1>{s.name}</h1>
      <section className="card">
        <dl className="pairs">
          <dt>Description</dt>
          <dd>{s.description ?? <span className="muted">—</span>}</dd>
          <dt>Owners</dt>
          <dd>{s.owners.length ? s.owners.join(', ') : <span className="muted">—</span>}</dd>
          <dt>Registered</dt>
          <dd>{formatDateTime(s.createdAt)}</dd>
        </dl>
      </section>
      <section className="card">
        <h2>Environments</h2>
        <table className="table" aria-label="Environments">
          <thead>
            <tr>
              <th>Order</th>
              <th>Environment</th>
              <th>Traffic router</th>
              <th>Metrics source</th>
              <th>Needs the previous stage</th>
            </tr>
          </thead>
          <tbody>
            {(environments.data?.items ?? []).map((e) => (
              <tr key={e.id}>
                <td>{e.position}</td>
                <td>
                  <Link to={`/environments/${e.id}`}>{e.name}</Link>
                </td>
                <td>
                  <code>{e.target.type}</code>
                </td>
                <td>{e.metrics ? <code>{e.metrics.type}</code> : <span className="muted">none</span>}</td>
                <td>{e.requireUpstreamSuccess ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <ArtifactsTable service={s.name} title="Artifacts" />
      {readsAudit(me.data) && <AuditLog filter={{ service: s.name }} title="Recent activity" />}
    </>
  );
}
