import { useState } from 'react';
import { Link } from 'react-router';
import { useApprovals, useReleaseControl, type InboxItem } from '../api/actions.ts';
import { ApiError } from '../api/http.ts';
import { formatDuration, formatWhen } from '../format.ts';

/** The releases waiting for the signed-in person's approval, with what they would approve. */
export function ApprovalsPage() {
  const { data, error, isPending } = useApprovals();
  // A decided release leaves the inbox at once; what became of it stays here.
  const [decided, setDecided] = useState<Array<{ id: string; what: string; outcome: string }>>([]);
  const onDecided = (id: string, what: string, outcome: string) => setDecided((list) => [{ id, what, outcome }, ...list.filter((d) => d.id !== id)]);
  return (
    <>
      <h1>Approvals</h1>
      {decided.map((d) => (
        <p key={d.id} className="notice notice-ok" role="status" data-testid="approval-outcome">
          <Link to={`/releases/${d.id}`}>{d.what}</Link>: {d.outcome}
        </p>
      ))}
      {error && <p className="error">Could not load the approvals: {error.message}</p>}
      {isPending ? (
        <p className="muted">Loading…</p>
      ) : data?.items.length ? (
        data.items.map((item) => <ApprovalCard key={item.release.id} item={item} onDecided={onDecided} />)
      ) : (
        <section className="card" data-testid="approvals-empty">
          <p>Nothing waits for your approval.</p>
        </section>
      )}
    </>
  );
}

function ApprovalCard({ item, onDecided }: { item: InboxItem; onDecided: (id: string, what: string, outcome: string) => void }) {
  const { release } = item;
  const control = useReleaseControl(release.id);
  const [comment, setComment] = useState('');
  // mutateAsync, not mutate's callbacks: the live stream may take the card out of the inbox
  // before the reply arrives, and callbacks of an unmounted component never run.
  const decide = (decision: 'approve' | 'reject') =>
    control.mutateAsync({ control: decision, body: comment ? { comment } : {} }).then(
      (r) =>
        onDecided(
          release.id,
          `${release.service} ${release.version} → ${release.environment}`,
          decision === 'approve'
            ? r.release.phase === 'awaiting-approval'
              ? 'you approved; it waits for more approvals.'
              : `you approved; the release is ${r.release.phase.replace('-', ' ')}.`
            : 'you rejected it.',
        ),
      () => {}, // shown from control.error
    );
  const error = control.error;
  const signInAgain =
    error instanceof ApiError && error.code === 'reauthentication_required' ? (error.details as { signIn?: string } | undefined)?.signIn : undefined;
  const waited = item.waitingSince ? formatDuration(Date.now() - Date.parse(item.waitingSince)) : null;

  return (
    <section className="card approval" data-testid="approval-card">
      <div className="card-head">
        <h2>
          <Link to={`/releases/${release.id}`}>
            {release.service} {release.version} → {release.environment}
          </Link>
        </h2>
        <span className="muted">
          {item.approvals.length} of {item.requiredApprovals} approvals{item.group ? ` (group ${item.group})` : ''}
        </span>
      </div>
      <dl className="facts">
        <div>
          <dt>Digest</dt>
          <dd>
            <code className="digest">{release.digest}</code>
          </dd>
        </div>
        <div>
          <dt>Plan</dt>
          <dd>
            {release.plan.name} <span className="muted">v{release.plan.version}</span>
          </dd>
        </div>
        <div>
          <dt>Asked by</dt>
          <dd>{item.requestedBy}</dd>
        </div>
        {release.reason && (
          <div>
            <dt>Now</dt>
            <dd>{release.reason}</dd>
          </div>
        )}
        <div>
          <dt>Waiting</dt>
          <dd>{waited ? `${waited} (since ${formatWhen(item.waitingSince!)})` : '—'}</dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>{item.expiresAt ? formatWhen(item.expiresAt) : 'never'}</dd>
        </div>
      </dl>
      {item.evidence.length > 0 && (
        <ul className="evidence-summary" aria-label="evidence so far">
          {item.evidence.map((e) => (
            <li key={e.stepIndex}>
              step {e.stepIndex + 1} {e.type}: {e.status}
              {e.summary ? ` — ${e.summary}` : ''}
            </li>
          ))}
        </ul>
      )}
      {item.approvals.map((a) => (
        <p key={a.at} className="muted">
          approved by {a.by} at {formatWhen(a.at)}
          {a.comment ? `: “${a.comment}”` : ''}
        </p>
      ))}
      {item.needsReauthentication && (
        <p className="notice notice-bad">
          Approving here needs a recent sign-in. <a href={`/auth/login?maxAge=900&returnTo=${encodeURIComponent('/approvals')}`}>Sign in again</a>
        </p>
      )}
      <label className="comment">
        Comment (required to reject)
        <textarea value={comment} onChange={(event) => setComment(event.target.value)} maxLength={2000} rows={2} />
      </label>
      <div className="control-buttons">
        <button type="button" disabled={control.isPending} onClick={() => decide('approve')}>
          Approve
        </button>
        <button type="button" className="danger" disabled={control.isPending || !comment.trim()} onClick={() => decide('reject')}>
          Reject
        </button>
      </div>
      {error && (
        <p className="notice notice-bad" role="alert">
          {error.message} {signInAgain && <a href={signInAgain}>Sign in again</a>}
        </p>
      )}
    </section>
  );
}
