import { useAuditLog } from '../api/audit.ts';
import type { AuditEvent } from '../api/types.ts';

const time = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function AuditLog() {
  const { data, error, isPending, hasNextPage, fetchNextPage, isFetchingNextPage } = useAuditLog();
  const events = data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section className="card">
      <h2>Audit log</h2>
      {error && <p className="error">Could not load the audit log: {error.message}</p>}
      <table className="table">
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
            <AuditRow key={event.seq} event={event} />
          ))}
          {!isPending && !error && events.length === 0 && (
            <tr>
              <td colSpan={6} className="muted empty">
                No audit events yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {isPending && <p className="muted">Loading…</p>}
      {hasNextPage && (
        <button type="button" className="secondary" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
          {isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

function AuditRow({ event }: { event: AuditEvent }) {
  return (
    <tr data-testid="audit-row">
      <td title={event.createdAt} className="nowrap">
        {time.format(new Date(event.createdAt))}
      </td>
      <td>
        {event.actor.name ? (
          <span className="id" title={`${event.actor.type} ${event.actor.id}`}>
            <span className="kind">{event.actor.type}</span>
            {event.actor.name}
          </span>
        ) : (
          <Id kind={event.actor.type} id={event.actor.id} />
        )}
      </td>
      <td>
        <code className="action">{event.action}</code>
      </td>
      <td>
        <Id kind={event.subject.type} id={event.subject.id} />
      </td>
      <td>{event.environmentId ? <Id id={event.environmentId} /> : <span className="muted">—</span>}</td>
      <td>{event.reason ?? <span className="muted">—</span>}</td>
    </tr>
  );
}

/** Long ids (UUIDs) are shortened; the full id is in the tooltip. */
function Id({ kind, id }: { kind?: string; id: string }) {
  return (
    <span className="id" title={id}>
      {kind && <span className="kind">{kind}</span>}
      <code>{id.length > 12 ? `${id.slice(0, 8)}…` : id}</code>
    </span>
  );
}
