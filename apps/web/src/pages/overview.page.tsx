import { AuditLog } from './audit-log.tsx';
import { ChainVerification } from './chain-verification.tsx';
import { SystemHealth } from './system-health.tsx';

export function OverviewPage() {
  return (
    <>
      <h1>Overview</h1>
      <div className="grid">
        <SystemHealth />
        <ChainVerification />
      </div>
      <AuditLog />
    </>
  );
}
