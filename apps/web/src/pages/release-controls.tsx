import { useState } from 'react';
import { Link } from 'react-router';
import { CONTROL_PHASES, mayAct, useApprovals, useReleaseControl, type Control, type ControlResult } from '../api/actions.ts';
import { ApiError } from '../api/http.ts';
import { useMe } from '../api/session.ts';
import type { Release } from '../api/model.ts';

/** Controls that change traffic or end the release ask once, with a reason; the others act at once. */
const CONFIRM: Partial<Record<Control, { title: string; reasonRequired: boolean; commentField?: boolean }>> = {
  rollback: { title: 'Roll back: send all traffic to the stable version now', reasonRequired: true },
  abort: { title: 'Abort: stop the release and send all traffic to stable', reasonRequired: false },
  promote: { title: 'Promote: skip the remaining steps and send all traffic to this version', reasonRequired: false },
  reject: { title: 'Reject: the approval step fails', reasonRequired: true, commentField: true },
};
const LABEL: Record<Control, string> = {
  pause: 'Pause',
  resume: 'Resume',
  promote: 'Promote',
  abort: 'Abort',
  rollback: 'Roll back',
  retry: 'Retry',
  approve: 'Approve',
  reject: 'Reject',
};

/** One-click controls on a release, shown only to those whose roles allow them (the API still decides). */
export function ReleaseControls({ release }: { release: Release }) {
  const me = useMe();
  const inbox = useApprovals(release.phase === 'awaiting-approval');
  const control = useReleaseControl(release.id);
  const [asking, setAsking] = useState<Control | null>(null);
  const [text, setText] = useState('');
  const [fromStep, setFromStep] = useState(0);
  const [done, setDone] = useState<{ text: string; result: ControlResult } | null>(null);

  const deployer = mayAct(me.data, 'control', release.service.name, release.environment.name);
  // Approvers by role, or by the environment's approver group: then the release is in their inbox.
  const approver =
    mayAct(me.data, 'approve', release.service.name, release.environment.name) || Boolean(inbox.data?.items.some((i) => i.release.id === release.id));
  const available = (Object.keys(CONTROL_PHASES) as Control[]).filter(
    (c) =>
      CONTROL_PHASES[c].includes(release.phase) &&
      (c === 'approve' || c === 'reject' ? approver : deployer) &&
      // A drill only ever rolls back: the API refuses to promote or retry one.
      !(release.drill && (c === 'promote' || c === 'retry')),
  );
  // After the last possible control (a rejection, say) its result stays in view.
  if (available.length === 0 && !done && !control.error) return null;

  const act = (c: Control) => {
    const body: Record<string, unknown> =
      c === 'approve' || c === 'reject'
        ? text
          ? { comment: text }
          : {}
        : c === 'retry'
          ? { fromStep, ...(text ? { reason: text } : {}) }
          : text
            ? { reason: text }
            : {};
    setDone(null);
    control.mutate(
      { control: c, body },
      {
        onSuccess: (result) =>
          setDone({
            result,
            text: result.rollbackRelease
              ? `${LABEL[c]}: the previous version is no longer kept on the other slot, so release ${result.rollbackRelease.id} deploys version ${result.rollbackRelease.artifact.version} again.`
              : result.accepted
                ? `${LABEL[c]}: accepted; the engine applies it in a moment.`
                : `${LABEL[c]}: done — the release is now ${result.release.phase.replace('-', ' ')}.`,
          }),
      },
    );
    setAsking(null);
    setText('');
  };
  // A succeeded release has no canary left: its rollback goes back to the version before.
  const afterSuccess =
    release.phase === 'succeeded'
      ? release.slots
        ? `Roll back after success: all traffic back to the version before, on slot ${release.slots.live} while it is kept there (else a release of it)`
        : 'Roll back after success: start a release of the version before, all traffic at once'
      : null;
  const confirm = asking === 'rollback' && afterSuccess ? { ...CONFIRM.rollback!, title: afterSuccess } : asking ? CONFIRM[asking] : undefined;
  const error = control.error;
  const signInAgain =
    error instanceof ApiError && error.code === 'reauthentication_required' ? (error.details as { signIn?: string } | undefined)?.signIn : undefined;

  return (
    <section className="card release-controls" data-testid="release-controls">
      <div className="control-buttons">
        {available.map((c) => (
          <button
            key={c}
            type="button"
            className={c === 'rollback' || c === 'abort' || c === 'reject' ? 'danger' : c === 'approve' ? '' : 'secondary'}
            disabled={control.isPending}
            onClick={() => (CONFIRM[c] ? setAsking(c) : c === 'retry' ? setAsking('retry') : act(c))}
          >
            {LABEL[c]}
          </button>
        ))}
        {control.isPending && <span className="muted">Working…</span>}
      </div>
      {asking && (
        <form
          className="confirm"
          aria-label={LABEL[asking]}
          onSubmit={(event) => {
            event.preventDefault();
            act(asking);
          }}
        >
          <p>
            <strong>{confirm?.title ?? 'Retry the release from a step'}</strong>
          </p>
          {asking === 'retry' && (
            <label>
              From step{' '}
              <select value={fromStep} onChange={(event) => setFromStep(Number(event.target.value))}>
                {release.steps.map((s) => (
                  <option key={s.index} value={s.index}>
                    {s.index + 1}: {String((s.spec as { type?: string }).type ?? 'step')}
                  </option>
                ))}
              </select>
            </label>
          )}
          <label>
            {confirm?.commentField ? 'Why (required)' : confirm?.reasonRequired ? 'Reason (required)' : 'Reason (optional)'}
            <textarea value={text} onChange={(event) => setText(event.target.value)} required={confirm?.reasonRequired} maxLength={2000} rows={2} />
          </label>
          <div className="control-buttons">
            <button type="submit" className={asking === 'rollback' || asking === 'abort' || asking === 'reject' ? 'danger' : ''}>
              {LABEL[asking]}
            </button>
            <button type="button" className="secondary" onClick={() => setAsking(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {done && (
        <p className="notice notice-ok" role="status" data-testid="control-result">
          {done.text}{' '}
          <Link to={`/audit?requestId=${encodeURIComponent(done.result.requestId)}`} data-testid="control-audit-link">
            {done.result.auditEvents.length
              ? `Audit: ${done.result.auditEvents.map((e) => `${e.action} #${e.seq}`).join(', ')}`
              : 'Audit events of this request'}
          </Link>
        </p>
      )}
      {error && (
        <p className="notice notice-bad" role="alert" data-testid="control-error">
          {error.message}
          {signInAgain && (
            <>
              {' '}
              <a href={signInAgain}>Sign in again</a>
            </>
          )}
          {error instanceof ApiError && error.requestId && <span className="muted"> (request {error.requestId})</span>}
        </p>
      )}
    </section>
  );
}
