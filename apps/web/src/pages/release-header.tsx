import { Link } from 'react-router';
import type { Release } from '../api/model.ts';
import { PhaseBadge } from '../components/phase-badge.tsx';
import { Actor } from '../components/short-id.tsx';
import { WeightBar } from '../components/weight-bar.tsx';
import { durationBetween, formatDateTime, formatWhen, shortDigest } from '../format.ts';

const reasonTone: Partial<Record<Release['phase'], string>> = {
  failed: 'bad',
  'rolled-back': 'bad',
  aborted: 'warn',
  paused: 'warn',
  'awaiting-approval': 'info',
  queued: 'warn',
};

export function ReleaseHeader({ release }: { release: Release }) {
  const { steps, stepIndex } = release;
  const position = stepIndex >= steps.length ? 'all steps done' : `step ${stepIndex + 1} of ${steps.length}`;
  return (
    <section className="card release-header" data-testid="release-header">
      <div className="release-title">
        <h1>
          {release.service.name} <span className="arrow">→</span> {release.environment.name}
        </h1>
        <PhaseBadge phase={release.phase} />
      </div>
      <div className="release-artifact">
        <span>
          version <code className="strong">{release.artifact.version}</code>
        </span>
        <code className="muted" title={release.artifact.digest}>
          {shortDigest(release.artifact.digest)}
        </code>
        <code className="muted" title="release id">
          {release.id}
        </code>
      </div>
      {release.breakGlass && (
        <p className="callout bad break-glass" role="alert" data-testid="break-glass">
          <strong>Break-glass</strong> by {release.breakGlass.display} at {release.breakGlass.at}: {release.breakGlass.reason}. Deploy windows, freezes and
          approvals do not hold this release.
        </p>
      )}
      {release.undoneBy && (
        <p className="callout warn" data-testid="release-undone-by">
          Rolled back after success by release <Link to={`/releases/${release.undoneBy}`}>{release.undoneBy}</Link>, which deploys the version before it again.
        </p>
      )}
      {release.drill && (
        <p className="callout info" data-testid="release-drill">
          A rollback drill: the live version deployed again to <code>{release.slots?.idle}</code>, a small share of traffic, then all of it back to{' '}
          <code>{release.slots?.live}</code>, which stays live. It never promotes and is no deployment in the DORA figures;{' '}
          <Link to={`/environments/${release.environment.id}`}>the environment&apos;s drills</Link> show its time to rollback.
        </p>
      )}
      {release.undoes && (
        <p className="callout info" data-testid="release-undoes">
          Rolls back release <Link to={`/releases/${release.undoes}`}>{release.undoes}</Link> by deploying the version before it again.
        </p>
      )}
      {release.slots && (
        <p className="muted" data-testid="release-slots">
          Slots: deploys to <code>{release.slots.idle}</code> (deploy {release.slots.deployment?.status ?? 'not needed'}), previous version on{' '}
          <code>{release.slots.live}</code>
          {release.slots.switchedBack ? (
            <>
              {' '}
              — rolled back after success: all traffic switched back to it by <Actor actorId={release.slots.switchedBack.by} /> at{' '}
              {formatDateTime(release.slots.switchedBack.at)}
            </>
          ) : release.phase === 'succeeded' && release.slots.keepPreviousUntil ? (
            `, ${Date.parse(release.slots.keepPreviousUntil) > Date.now() ? 'kept' : 'was kept'} for an instant rollback until ${formatDateTime(release.slots.keepPreviousUntil)}`
          ) : (
            ''
          )}
          .
        </p>
      )}
      {release.reason && (
        // A drill that rolled back as rehearsed did what it was for: not shown as a failure.
        <p
          className={`callout ${release.drill && release.phase === 'rolled-back' && release.slots?.deployment?.status === 'ready' ? 'info' : (reasonTone[release.phase] ?? '')}`}
          data-testid="release-reason"
        >
          {release.reason}
        </p>
      )}
      <dl className="facts">
        <div>
          <dt>Plan</dt>
          <dd data-testid="release-plan">
            {release.plan.name} <span className="muted">v{release.plan.version}</span> · {release.plan.strategy}
            <span className="muted"> · automatic rollback {release.plan.automaticRollback ? 'on' : 'off'}</span>
          </dd>
        </div>
        <div>
          <dt>{release.rolling ? 'Instances replaced' : 'Canary weight'}</dt>
          <dd>
            <WeightBar weight={release.canaryWeight} />
          </dd>
        </div>
        <div>
          <dt>Progress</dt>
          <dd>{position}</dd>
        </div>
        <div>
          <dt>Requested by</dt>
          <dd>
            <Actor actorId={release.requestedBy} />
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd title={release.createdAt}>{formatDateTime(release.createdAt)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd title={release.startedAt ?? undefined}>{release.startedAt ? formatWhen(release.startedAt) : <span className="muted">not yet</span>}</dd>
        </div>
        {release.finishedAt && release.startedAt && (
          <div>
            <dt>Finished</dt>
            <dd title={release.finishedAt}>
              {formatWhen(release.finishedAt)} <span className="muted">after {durationBetween(release.startedAt, release.finishedAt)}</span>
            </dd>
          </div>
        )}
      </dl>
    </section>
  );
}
