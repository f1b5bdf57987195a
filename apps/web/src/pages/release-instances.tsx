import type { Release } from '../api/model.ts';
import { shortDigest } from '../format.ts';

type Rolling = NonNullable<Release['rolling']>;

/** A rolling release's instances: the batch under way, what each instance runs, whether it serves, its deploy, and the rollback. */
export function ReleaseInstances({ release, rolling }: { release: Release; rolling: Rolling }) {
  const total = rolling.instances.length;
  const runs = (digest: string | null, previous: string | null) =>
    digest === null ? (
      <span className="muted">unknown</span>
    ) : digest === release.artifact.digest ? (
      <>
        <span className="pill ok">{release.artifact.version}</span> <code className="muted">{shortDigest(digest)}</code>
      </>
    ) : (
      <>
        <span className="pill">{digest === previous ? 'previous' : 'other'}</span> <code className="muted">{shortDigest(digest)}</code>
      </>
    );
  return (
    <section className="card" data-testid="release-instances">
      <h2>Instances</h2>
      <p data-testid="rolling-progress">
        {rolling.batch === 0 ? 'No batch started yet' : `Batch ${rolling.batch} of ${rolling.batches}`} ·{' '}
        <strong>
          {rolling.replaced} of {total}
        </strong>{' '}
        instances on version {release.artifact.version}
      </p>
      {rolling.rollback && (
        <p className={`callout ${rolling.rollback.done ? 'bad' : 'warn'}`} data-testid="rolling-rollback">
          {rolling.rollback.done ? 'Rolled back' : 'Rolling back'} the replaced instances to the version each ran before: {rolling.rollback.reason}
          {rolling.rollback.notRestored.length > 0 && (
            <>
              {' '}
              Not put back:{' '}
              {rolling.rollback.notRestored.map((n) => (
                <span key={n.instance}>
                  <code>{n.instance}</code> ({n.reason}){' '}
                </span>
              ))}
            </>
          )}
        </p>
      )}
      <table className="table" aria-label="Instances">
        <thead>
          <tr>
            <th>Instance</th>
            <th>Batch</th>
            <th>Runs</th>
            <th>Traffic</th>
            <th>Last deploy</th>
          </tr>
        </thead>
        <tbody>
          {rolling.instances.map((i) => (
            <tr key={i.name} data-testid="instance-row">
              <td>
                <code>{i.name}</code>
              </td>
              <td>{i.batch}</td>
              <td>{runs(i.digest, i.previousDigest)}</td>
              <td>{i.inRotation ? <span className="pill ok">in rotation</span> : <span className="pill bad">out of rotation</span>}</td>
              <td>
                {i.deploy ? (
                  <>
                    {i.deploy.direction === 'back' ? 'back to previous' : 'new version'} · attempt {i.deploy.attempt} · {i.deploy.status}
                    {i.deploy.reason && <div className="muted">{i.deploy.reason}</div>}
                  </>
                ) : (
                  <span className="muted">none in this release</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
