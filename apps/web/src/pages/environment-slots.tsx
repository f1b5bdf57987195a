import { Link } from 'react-router';
import type { Environment } from '../api/model.ts';
import { YamlBlock } from '../components/yaml-block.tsx';
import { formatDateTime } from '../format.ts';

type SlotRelease = NonNullable<NonNullable<Environment['slotsNow']>['live']['release']>;

function ReleaseOn({ release }: { release: SlotRelease }) {
  return (
    <Link to={`/releases/${release.id}`}>
      <code className="strong">{release.version}</code>
    </Link>
  );
}

/**
 * What puts releases on this environment, and what each slot holds now: the live one, and on the
 * idle one the previous version kept for an instant rollback, until when.
 */
export function EnvironmentSlots({ environment: e }: { environment: Environment }) {
  if (!e.deployer || !e.slotsNow) {
    return (
      <section className="card" data-testid="environment-slots">
        <h2>Deployer and slots</h2>
        <p className="muted">
          No deployer: CI puts the artifact on the router&apos;s servers itself, and they keep their parts (no slots alternate, so a succeeded release is rolled
          back by a new release of the version before).
        </p>
      </section>
    );
  }
  const { live, idle } = e.slotsNow;
  const expired = idle.keptUntil !== null && Date.parse(idle.keptUntil) <= Date.now();
  return (
    <section className="card" data-testid="environment-slots">
      <h2>Deployer and slots</h2>
      <p>
        <code>{e.deployer.type}</code> deployer: each release is put on the idle slot before any traffic moves; on success that slot is live and the other keeps
        the version before for {e.keepPreviousFor ?? '1h'}.
      </p>
      <table className="table" aria-label="Slots">
        <thead>
          <tr>
            <th>Slot</th>
            <th>Now</th>
            <th>Holds</th>
            <th>Kept until</th>
          </tr>
        </thead>
        <tbody>
          <tr data-testid="slot-live">
            <td>
              <code>{live.slot}</code>
            </td>
            <td>
              <span className="pill ok">live</span>
            </td>
            <td>{live.release ? <ReleaseOn release={live.release} /> : <span className="muted">what was there before the first release here</span>}</td>
            <td className="muted">—</td>
          </tr>
          <tr data-testid="slot-idle">
            <td>
              <code>{idle.slot}</code>
            </td>
            <td>
              <span className="pill">idle</span>
            </td>
            <td>
              {idle.release ? (
                <>
                  <ReleaseOn release={idle.release} /> <span className="muted">the version before, for an instant rollback</span>
                </>
              ) : (
                <span className="muted">nothing kept for an instant rollback (the next release deploys here)</span>
              )}
            </td>
            <td>
              {idle.release && idle.keptUntil ? (
                <span className={expired ? 'muted' : undefined}>
                  {formatDateTime(idle.keptUntil)}
                  {expired && ' (past: a rollback now deploys it again)'}
                </span>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
          </tr>
        </tbody>
      </table>
      <details>
        <summary>Deployer configuration</summary>
        <YamlBlock value={e.deployer.config} label="Deployer configuration" />
      </details>
    </section>
  );
}
