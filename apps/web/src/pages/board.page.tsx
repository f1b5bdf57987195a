import { useState } from 'react';
import { Link } from 'react-router';
import { mayAct, useStartRelease } from '../api/actions.ts';
import { useBoard, usePlans, type BoardEnvironment, type BoardService } from '../api/catalog.ts';
import { ApiError } from '../api/http.ts';
import { useMe } from '../api/session.ts';
import type { Phase } from '../api/model.ts';
import { PhaseBadge } from '../components/phase-badge.tsx';
import { WeightBar } from '../components/weight-bar.tsx';
import { formatWhen, shortDigest } from '../format.ts';

/** For each service, its environments in promotion order: what runs, what is on its way, what could move on. */
export function BoardPage() {
  const board = useBoard();
  const items = board.data?.items ?? [];
  return (
    <>
      <h1>Promotion board</h1>
      {board.error && <p className="error">Could not load the board: {board.error.message}</p>}
      {board.isPending && <p className="muted">Loading…</p>}
      {!board.isPending && !board.error && items.length === 0 && <p className="muted card">No services you may see yet.</p>}
      {items.map((item) => (
        <ServiceRow key={item.service.id} item={item} />
      ))}
    </>
  );
}

function ServiceRow({ item }: { item: BoardService }) {
  return (
    <section className="card board-service" aria-labelledby={`board-${item.service.id}`} data-testid="board-service" data-service={item.service.name}>
      <div className="card-head">
        <h2 id={`board-${item.service.id}`}>
          <Link to={`/services/${item.service.id}`}>{item.service.name}</Link>
        </h2>
        {item.service.description && <span className="muted">{item.service.description}</span>}
      </div>
      {item.environments.length === 0 ? (
        <p className="muted">No environments registered.</p>
      ) : (
        <ol className="board-path">
          {item.environments.map((env) => (
            <EnvironmentCell key={env.id} service={item.service.name} env={env} />
          ))}
        </ol>
      )}
    </section>
  );
}

function EnvironmentCell({ service, env }: { service: string; env: BoardEnvironment }) {
  return (
    <li className="board-env" data-testid="board-env" data-environment={env.name}>
      <h3>
        <Link to={`/environments/${env.id}`}>{env.name}</Link>
        {env.protected && (
          <span className="pill" title={`${env.requiredApprovals} approval(s) needed`}>
            protected
          </span>
        )}
      </h3>
      {env.running ? (
        <p data-testid="board-running">
          <Link to={`/releases/${env.running.releaseId}`}>
            <strong>{env.running.version}</strong>
          </Link>{' '}
          <code title={env.running.digest}>{shortDigest(env.running.digest)}</code>
          <br />
          <span className="muted">since {formatWhen(env.running.since)}</span>
        </p>
      ) : (
        <p className="muted" data-testid="board-running">
          No release has finished here yet
        </p>
      )}
      {env.inFlight.map((r) => (
        <div key={r.id} className="board-flight" data-testid="board-in-flight">
          <Link to={`/releases/${r.id}`}>
            {r.version} <code title={r.digest}>{shortDigest(r.digest)}</code>
          </Link>{' '}
          <PhaseBadge phase={r.phase as Phase} />
          <div className="muted">
            step {Math.min(r.stepIndex + 1, r.steps)} of {r.steps}
          </div>
          <WeightBar weight={r.canaryWeight} />
        </div>
      ))}
      {env.promotion && <Promote service={service} promotion={env.promotion} from={env.name} />}
    </li>
  );
}

/** "Promote this digest to the next environment": one form with the plan and a reason; the API's rules decide. */
function Promote({ service, from, promotion }: { service: string; from: string; promotion: NonNullable<BoardEnvironment['promotion']> }) {
  const me = useMe();
  const plans = usePlans();
  const start = useStartRelease();
  const [open, setOpen] = useState(false);
  const [plan, setPlan] = useState(promotion.plan);
  const [reason, setReason] = useState('');
  if (!mayAct(me.data, 'control', service, promotion.to.name)) return null;
  const label = `Promote ${promotion.version} to ${promotion.to.name}`;

  if (start.data)
    return (
      <p className="notice notice-ok" role="status" data-testid="promote-result">
        Started: <Link to={`/releases/${start.data.id}`}>release of {start.data.artifact.version}</Link> to {start.data.environment.name}
      </p>
    );
  return (
    <div className="board-promote">
      {!open ? (
        <button type="button" onClick={() => setOpen(true)} aria-label={`${label} (from ${from})`}>
          {label} →
        </button>
      ) : (
        <form
          className="confirm"
          aria-label={label}
          onSubmit={(event) => {
            event.preventDefault();
            start.mutate({ service, environment: promotion.to.name, version: promotion.version, plan, ...(reason ? { reason } : {}) });
          }}
        >
          <p>
            <strong>{label}</strong>
            <br />
            <code>{promotion.digest}</code>
          </p>
          <label>
            Plan
            <select value={plan} onChange={(event) => setPlan(event.target.value)}>
              {(plans.data?.items ?? [{ name: promotion.plan, version: 0 }]).map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name}
                  {p.version ? ` (v${p.version})` : ''}
                </option>
              ))}
            </select>
          </label>
          <label>
            Reason (optional)
            <textarea value={reason} onChange={(event) => setReason(event.target.value)} maxLength={2000} rows={2} />
          </label>
          <div className="control-buttons">
            <button type="submit" disabled={start.isPending}>
              {start.isPending ? 'Starting…' : 'Start release'}
            </button>
            <button type="button" className="secondary" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
          {start.error && (
            <p className="notice notice-bad" role="alert" data-testid="promote-error">
              Refused: {start.error.message}
              {start.error instanceof ApiError && start.error.requestId && <span className="muted"> (request {start.error.requestId})</span>}
            </p>
          )}
        </form>
      )}
    </div>
  );
}
