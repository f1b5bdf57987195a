import { Link } from 'react-router';
import { readsAudit, useMe } from '../api/session.ts';
import { AuditLog } from './audit-log.tsx';
import { ChainVerification } from './chain-verification.tsx';
import { SystemHealth } from './system-health.tsx';

export function OverviewPage() {
  const me = useMe();
  return (
    <>
      <h1>Overview</h1>
      <div className="grid">
        <SystemHealth />
        {readsAudit(me.data) && <ChainVerification />}
      </div>
      {readsAudit(me.data) ? (
        <AuditLog title="Recent activity">
          <p className="muted">
            Everything anyone changed, newest first. <Link to="/audit">Filter and export the audit log</Link>.
          </p>
        </AuditLog>
      ) : (
        <p className="card">
          See what runs where on the <Link to="/board">promotion board</Link>.
        </p>
      )}
    </>
  );
}
