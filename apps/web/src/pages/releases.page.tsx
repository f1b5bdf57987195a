import { memo } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useReleases } from '../api/releases.ts';
import { PHASES, type Phase, type Release } from '../api/model.ts';
import { PhaseBadge } from '../components/phase-badge.tsx';
import { Actor } from '../components/short-id.tsx';
import { WeightBar } from '../components/weight-bar.tsx';
import { formatDateTime, formatWhen, shortId } from '../format.ts';

export function ReleasesPage() {
  const [params, setParams] = useSearchParams();
  const phaseParam = params.get('phase');
  const phase = PHASES.includes(phaseParam as Phase) ? (phaseParam as Phase) : undefined;
  const { data, error, isPending, hasNextPage, fetchNextPage, isFetchingNextPage } = useReleases({ phase });
  const releases = data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      <div className="page-head">
        <h1>Releases</h1>
        <label className="filter">
          Phase
          <select value={phase ?? ''} onChange={(event) => setParams(event.target.value ? { phase: event.target.value } : {})}>
            <option value="">all</option>
            {PHASES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      </div>
      <section className="card">
        {error && <p className="error">Could not load the releases: {error.message}</p>}
        <table className="table releases-table">
          <thead>
            <tr>
              <th>Service</th>
              <th>Environment</th>
              <th>Version</th>
              <th>Plan</th>
              <th>Phase</th>
              <th>Canary</th>
              <th>Started</th>
              <th>Requested by</th>
            </tr>
          </thead>
          <tbody>
            {releases.map((release) => (
              <ReleaseRow key={release.id} release={release} />
            ))}
            {!isPending && !error && releases.length === 0 && (
              <tr>
                <td colSpan={8} className="muted empty">
                  {phase ? `No ${phase} releases.` : 'No releases yet.'}
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
    </>
  );
}

// A live update replaces one release object and keeps the others, so only its row renders again.
const ReleaseRow = memo(function ReleaseRow({ release }: { release: Release }) {
  const navigate = useNavigate();
  const href = `/releases/${release.id}`;
  return (
    <tr
      className="clickable"
      data-testid="release-row"
      data-release-id={release.id}
      onClick={(event) => {
        // The service cell is a real link (keyboard, middle click); the rest of the row follows it.
        if (!(event.target as HTMLElement).closest('a')) void navigate(href);
      }}
    >
      <td>
        <Link to={href} className="strong-link">
          {release.service.name}
        </Link>
      </td>
      <td>{release.environment.name}</td>
      <td>
        <code>{release.artifact.version}</code>
      </td>
      <td>
        {release.plan.name} <span className="muted">v{release.plan.version}</span>
      </td>
      <td>
        <PhaseBadge phase={release.phase} />
        <AfterSuccess release={release} />
        {release.drill && (
          <span className="badge badge-queued" title="a rollback drill: it only ever rolls back, and is no deployment">
            drill
          </span>
        )}
      </td>
      <td>
        <WeightBar weight={release.canaryWeight} />
      </td>
      <td className="nowrap" title={release.startedAt ? formatDateTime(release.startedAt) : `created ${formatDateTime(release.createdAt)}`}>
        {release.startedAt ? formatWhen(release.startedAt) : <span className="muted">not started</span>}
      </td>
      <td>
        <Actor actorId={release.requestedBy} />
      </td>
    </tr>
  );
});

/** A succeeded release that was rolled back later: switched back at once, or undone by a release of the version before. */
function AfterSuccess({ release }: { release: Release }) {
  if (release.slots?.switchedBack)
    return (
      <span className="muted small nowrap" data-testid="release-after-success">
        {' '}
        after success
      </span>
    );
  if (!release.undoneBy) return null;
  return (
    <span className="muted small nowrap" data-testid="release-after-success" title={`undone by release ${release.undoneBy}`}>
      {' '}
      undone by{' '}
      <Link to={`/releases/${release.undoneBy}`} onClick={(event) => event.stopPropagation()}>
        {shortId(release.undoneBy)}
      </Link>
    </span>
  );
}
