import { useState } from 'react';
import { Link } from 'react-router';
import { useApprovals, useReleaseControl, type InboxItem } from '../api/actions.ts';
import { ApiError } from '../api/http.ts';
import { formatDuration, formatWhen } from '../format.ts';

/** The releases waiting for the signed-in person's approval, with what they would approve. */
export function ApprovalsPage() {
  const { data, error, isPending } = useApprovals();
  return (
    <>
      <h1>Approvals</h1>
      {error && <p className="error">Could not load the approvals: {error.message}</p>}
      {isPending ? (
        <p className="muted">Loading…</p>
      ) : data?.items.length ? (
        data.items.map((item) => <ApprovalCard key={item.release.id} item={item} />)
      ) : (
        <section className="card" data-testid="approvals-empty">
          <p>Nothing waits for your approval.</p>
        </section>
      )}
    </>
  );
}

function ApprovalCard({ item }: { item: InboxItem }) {
  const { release } = item;
  const control = useReleaseControl(release.id);
  const [comment, setComment] = useState('');
  const [outcome, setOutcome] = useState<string | null>(null);
  const decide = (decision: 'approve' | 'reject') =>
    control.mutate(
      { control: decision, body: comment ? { comment } : {} },
      { onSuccess: (r) => setOutcome(decision === 'approve' ? `Approved: the release is ${r.release.phase.replace('-', ' ')}.` : 'Rejected.') },
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
            <code title={release.digest}>{release.digest}</code>
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
          <dd>
            {item.requestedBy}
            {release.reason && <span className="muted">: {release.reason}</span>}
          </dd>
        </div>
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
      {outcome && (
        <p className="notice notice-ok" role="status">
          {outcome}
        </p>
      )}
      {error && (
        <p className="notice notice-bad" role="alert">
          {error.message} {signInAgain && <a href={signInAgain}>Sign in again</a>}
        </p>
      )}
    </section>
  );
}
