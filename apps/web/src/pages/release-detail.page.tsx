import { Link, useParams } from 'react-router';
import { ApiError } from '../api/http.ts';
import { useRelease } from '../api/releases.ts';
import { ReleaseAnalysis } from './release-analysis.tsx';
import { ReleaseControls } from './release-controls.tsx';
import { ReleaseHeader } from './release-header.tsx';
import { ReleaseInstances } from './release-instances.tsx';
import { ReleaseHistory } from './release-history.tsx';
import { ReleaseSteps } from './release-steps.tsx';

export function ReleaseDetailPage() {
  const { id = '' } = useParams();
  const { data: release, error, isPending } = useRelease(id);

  return (
    <>
      <nav className="crumbs" aria-label="breadcrumb">
        <Link to="/releases">Releases</Link>
        <span className="muted">/</span>
        <span>{release ? `${release.service.name} ${release.artifact.version} → ${release.environment.name}` : id}</span>
      </nav>
      {isPending ? (
        <p className="muted">Loading…</p>
      ) : !release ? (
        <section className="card">
          <h1>{error instanceof ApiError && (error.status === 404 || error.status === 400) ? 'Release not found' : 'Could not load the release'}</h1>
          <p className="error">{error?.message}</p>
        </section>
      ) : (
        <>
          {error && <p className="error">Showing the last known state; refreshing failed: {error.message}</p>}
          <ReleaseHeader release={release} />
          <ReleaseControls release={release} />
          {release.rolling && <ReleaseInstances release={release} rolling={release.rolling} />}
          <ReleaseSteps release={release} />
          <ReleaseAnalysis release={release} />
          <ReleaseHistory history={release.history ?? []} stepCount={release.steps.length} />
        </>
      )}
    </>
  );
}
