import { useState } from 'react';
import { Link } from 'react-router';
import { mayAct } from '../api/actions.ts';
import { useDrills, useRunDrill, type Drill } from '../api/drills.ts';
import { ApiError } from '../api/http.ts';
import type { Environment } from '../api/model.ts';
import { useMe } from '../api/session.ts';
import { ShortId } from '../components/short-id.tsx';
import { formatDuration, formatWhen } from '../format.ts';

const BADGE: Record<Drill['status'], string> = {
  waiting: 'badge-queued',
  running: 'badge-step-running',
  succeeded: 'badge-step-succeeded',
  failed: 'badge-step-failed',
  skipped: 'badge-step-skipped',
};

/**
 * Rollback drills here: the schedule, the history with each drill's time to rollback against the
 * objective, and "Run drill" for those whose role may roll back (the API still decides, and says why not).
 */
export function EnvironmentDrills({ environment, service }: { environment: Environment; service: string | undefined }) {
  const me = useMe();
  const drills = useDrills(environment.id);
  const run = useRunDrill(environment.id);
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const schedule = environment.drills;
  const mayRun = Boolean(service && environment.deployer && mayAct(me.data, 'control', service, environment.name));
  const items = drills.data?.items ?? [];
  const busy = run.isPending || items.some((d) => d.status === 'running');

  return (
    <section className="card" data-testid="environment-drills">
      <div className="card-head">
        <h2>Rollback drills</h2>
        {mayRun && !asking && (
          <button type="button" className="secondary" disabled={busy} onClick={() => setAsking(true)}>
            Run drill
          </button>
        )}
      </div>
      <p className="muted small" data-testid="drill-schedule">
        {schedule
          ? `Every ${schedule.every}, next due ${formatWhen(schedule.nextDueAt)}; objective ${schedule.objective} from the rollback decision to all traffic back; ${schedule.hold} at 5% on the idle slot.`
          : environment.deployer
            ? 'On demand only (no schedule). A drill deploys the live version to the idle slot, sends it 5% of traffic, then rolls back.'
            : 'Drills need a deployer and slots that alternate: this environment has none.'}
      </p>
      {asking && (
        <form
          className="confirm"
          aria-label="Run drill"
          onSubmit={(event) => {
            event.preventDefault();
            run.mutate(reason, { onSettled: () => setReason('') });
            setAsking(false);
          }}
        >
          <p>
            <strong>
              Run a rollback drill: the version live on {environment.liveSlot ?? 'the live slot'} is deployed again to the idle slot, takes 5% of traffic for{' '}
              {schedule?.hold ?? '10s'}, then all traffic goes back
            </strong>
          </p>
          <label>
            Reason (optional)
            <textarea value={reason} onChange={(event) => setReason(event.target.value)} maxLength={2000} rows={2} />
          </label>
          <div className="control-buttons">
            <button type="submit">Run drill</button>
            <button type="button" className="secondary" onClick={() => setAsking(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {run.error && (
        <p className="notice notice-bad" role="alert" data-testid="drill-error">
          {run.error.message}
          {run.error instanceof ApiError && run.error.requestId && <span className="muted"> (request {run.error.requestId})</span>}
        </p>
      )}
      {drills.error && <p className="error">Could not load the drills: {drills.error.message}</p>}
      {items.length === 0 ? (
        <p className="muted">No drills yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="table" data-testid="drill-history">
            <thead>
              <tr>
                <th>When</th>
                <th>How</th>
                <th>Outcome</th>
                <th className="num">Time to rollback</th>
                <th>Version → slot</th>
                <th>Why</th>
                <th>Release</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id} data-testid="drill-row" data-status={d.status}>
                  <td>{formatWhen(d.startedAt ?? d.createdAt)}</td>
                  <td>{d.trigger === 'schedule' ? 'scheduled' : 'on demand'}</td>
                  <td>
                    <span className={`badge ${BADGE[d.status]}`}>{d.status}</span>
                    {d.slow && <span className="badge badge-paused">slow</span>}
                  </td>
                  <td className="num">
                    {d.timeToRollbackMs === null ? (
                      <span className="muted">—</span>
                    ) : (
                      <>
                        {formatDuration(d.timeToRollbackMs)} <span className="muted small">/ {formatDuration(d.objectiveMs)}</span>
                      </>
                    )}
                  </td>
                  <td>{d.version ? `${d.version} → ${d.slot}` : <span className="muted">—</span>}</td>
                  {/* A drill that rolled back in time says only its time, already in view; the others say why. */}
                  <td className="small">{d.reason && (d.status !== 'succeeded' || d.slow) ? d.reason : <span className="muted">—</span>}</td>
                  <td>{d.releaseId ? <Link to={`/releases/${d.releaseId}`}>{<ShortId id={d.releaseId} />}</Link> : <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
