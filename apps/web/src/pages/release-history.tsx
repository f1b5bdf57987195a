import type { Transition } from '../api/model.ts';
import { PhaseBadge } from '../components/phase-badge.tsx';
import { Actor } from '../components/short-id.tsx';
import { formatDateTime, formatWhen } from '../format.ts';

/** The release's state transitions, newest first. */
export function ReleaseHistory({ history, stepCount }: { history: Transition[]; stepCount: number }) {
  const rows = [...history].reverse();
  const step = (index: number) => (index >= stepCount ? 'end' : String(index + 1));
  return (
    <section className="card">
      <h2>History</h2>
      <table className="table" data-testid="release-history">
        <thead>
          <tr>
            <th>Time</th>
            <th>Event</th>
            <th>Phase</th>
            <th>Step</th>
            <th>Effects</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => (
            <tr key={t.version} data-testid="history-row">
              <td className="nowrap" title={formatDateTime(t.at)}>
                {formatWhen(t.at)}
              </td>
              <td className="nowrap">
                <code className="action">{eventLabel(t.event)}</code>
              </td>
              <td className="nowrap">
                {t.fromPhase === t.toPhase ? (
                  <PhaseBadge phase={t.toPhase} />
                ) : (
                  <>
                    <PhaseBadge phase={t.fromPhase} /> <span className="muted">→</span> <PhaseBadge phase={t.toPhase} />
                  </>
                )}
              </td>
              <td className="nowrap">{t.fromStep === t.toStep ? step(t.toStep) : `${step(t.fromStep)} → ${step(t.toStep)}`}</td>
              <td>{effectsLabel(t.effects) || <span className="muted">—</span>}</td>
              <td>
                <EventDetails event={t.event} />
              </td>
            </tr>
          ))}
          {rows.length === 0 && (
            <tr>
              <td colSpan={6} className="muted empty">
                Nothing has happened yet: the release engine has not picked this release up.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

function eventLabel(event: Transition['event']): string {
  if (event.type === 'gate-verdict') return `gate ${event.outcome ?? 'verdict'}`;
  if (event.type === 'retry' && event.fromStep !== undefined) return `retry from ${event.fromStep + 1}`;
  return event.type;
}

function effectsLabel(effects: Transition['effects']): string {
  return (effects ?? [])
    .map((e) => {
      if (e.type === 'set-weight') return `weight ${e.weight}%`;
      if (e.type === 'run-gate') return `run ${e.gate}`;
      return e.type;
    })
    .join(', ');
}

function EventDetails({ event }: { event: Transition['event'] }) {
  const text = event.summary ?? event.reason ?? event.comment;
  if (!event.actorId && !text) return <span className="muted">—</span>;
  return (
    <span className="event-details">
      {event.actorId && <Actor actorId={event.actorId} />}
      {text && <span>{text}</span>}
    </span>
  );
}
