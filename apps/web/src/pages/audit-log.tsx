import { Link } from 'react-router';
import { useAuditLog, type AuditFilter } from '../api/audit.ts';
import { useEnvironments, useServices } from '../api/catalog.ts';
import type { AuditEvent } from '../api/model.ts';
import { ShortId } from '../components/short-id.tsx';
import { formatDateTime } from '../format.ts';

/** Audit events, newest first, arriving live; `filter` narrows them as GET /api/v1/audit does. */
export function AuditLog({ filter = {}, title = 'Audit log', children }: { filter?: AuditFilter; title?: string; children?: React.ReactNode }) {
  const { data, error, isPending, hasNextPage, fetchNextPage, isFetchingNextPage } = useAuditLog(filter);
  const names = useEnvironmentNames();
  const events = data?.pages.flatMap((page) => page.items) ?? [];
  const filtered = Object.values(filter).some(Boolean);
  return (
    <section className="card">
      <h2>{title}</h2>
      {children}
      {error && <p className="error">Could not load the audit log: {error.message}</p>}
      <div className="table-scroll">
        <table className="table" aria-label="Audit events">
          <thead>
            <tr>
              <th>Time</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Subject</th>
              <th>Environment</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <AuditRow key={event.seq} event={event} environment={event.environmentId ? names.get(event.environmentId) : undefined} />
            ))}
            {!isPending && !error && events.length === 0 && (
              <tr>
                <td colSpan={6} className="muted empty">
                  {filtered ? 'No audit events match these filters.' : 'No audit events yet.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {isPending && <p className="muted">Loading…</p>}
      {hasNextPage && (
        <button type="button" className="secondary" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
          {isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

/** environment id → "service/environment", for people to read. */
function useEnvironmentNames(): Map<string, string> {
  const services = useServices().data?.items ?? [];
  const environments = useEnvironments().data?.items ?? [];
  const serviceName = new Map(services.map((s) => [s.id, s.name]));
  return new Map(environments.map((e) => [e.id, `${serviceName.get(e.serviceId) ?? '?'}/${e.name}`]));
}

const SUBJECT_PAGES: Record<string, (id: string) => string> = {
  release: (id) => `/releases/${id}`,
  service: (id) => `/services/${id}`,
  environment: (id) => `/environments/${id}`,
};

function AuditRow({ event, environment }: { event: AuditEvent; environment?: string }) {
  const page = SUBJECT_PAGES[event.subject.type];
  return (
    <tr data-testid="audit-row" data-seq={event.seq}>
      <td title={event.createdAt} className="nowrap">
        {formatDateTime(event.createdAt)}
      </td>
      <td>
        {event.actor.name ? (
          <span className="id" title={`${event.actor.type} ${event.actor.id}`}>
            <span className="kind">{event.actor.type}</span>
            {event.actor.name}
          </span>
        ) : (
          <ShortId kind={event.actor.type} id={event.actor.id} />
        )}
      </td>
      <td>
        <code className="action">{event.action}</code>
      </td>
      <td>
        {page ? (
          <Link to={page(event.subject.id)}>
            <ShortId kind={event.subject.type} id={event.subject.id} />
          </Link>
        ) : (
          <ShortId kind={event.subject.type} id={event.subject.id} />
        )}
      </td>
      <td>{event.environmentId ? (environment ?? <ShortId id={event.environmentId} />) : <span className="muted">—</span>}</td>
      <td>{event.reason ?? <span className="muted">—</span>}</td>
    </tr>
  );
}
