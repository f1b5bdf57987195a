import { NavLink, Outlet } from 'react-router';
import { useLiveStream, type StreamStatus } from './api/use-live-stream.ts';
import { readsAudit, useMe } from './api/session.ts';
import { SignedInUser } from './components/signed-in-user.tsx';
import { useApprovals } from './api/actions.ts';

const nav = [
  { to: '/', label: 'Overview', end: true },
  { to: '/board', label: 'Promotion board', end: false },
  { to: '/releases', label: 'Releases', end: false },
  { to: '/approvals', label: 'Approvals', end: false },
  { to: '/services', label: 'Services', end: false },
  { to: '/artifacts', label: 'Artifacts', end: false },
  { to: '/plans', label: 'Plans', end: false },
  { to: '/dora', label: 'DORA metrics', end: false },
];

const statusLabel: Record<StreamStatus, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };

export function AppLayout() {
  const me = useMe();
  if (!me.data) return <p className="muted page-loading">{me.isError ? 'Could not load who you are.' : 'Loading…'}</p>;
  const admin = me.data.roles.some((r) => r.role === 'admin' && !r.service);
  return (
    <SignedInLayout noRole={me.data.roles.length === 0} admin={admin} audit={readsAudit(me.data)}>
      <SignedInUser me={me.data} />
    </SignedInLayout>
  );
}

function SignedInLayout({ children, noRole, admin, audit }: { children: React.ReactNode; noRole: boolean; admin: boolean; audit: boolean }) {
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Glidepath</span>
        <span className="topbar-right">
          {!noRole && <LiveStreamStatus />}
          {children}
        </span>
      </header>
      <nav className="sidenav" aria-label="Main">
        {[
          ...nav,
          ...(audit ? [{ to: '/audit', label: 'Audit log', end: false }] : []),
          ...(admin ? [{ to: '/tokens', label: 'API tokens', end: false }] : []),
        ].map((item) => (
          <NavLink key={item.to} to={item.to} end={item.end}>
            {item.label}
            {item.to === '/approvals' && <ApprovalsBadge />}
          </NavLink>
        ))}
      </nav>
      <main className="content">
        {noRole ? (
          <div className="card" data-testid="no-role">
            <h1>You are signed in, but have no role yet</h1>
            <p>Ask a Glidepath administrator to grant you a role (viewer, deployer, approver or admin), for you or for one of your groups.</p>
          </div>
        ) : (
          <Outlet />
        )}
      </main>
    </div>
  );
}

/** Opens the live stream (only for people who may read what it carries) and shows its state. */
function LiveStreamStatus() {
  const stream = useLiveStream();
  return (
    <span className={`stream stream-${stream}`} data-testid="stream-status" title="Live updates from /api/v1/stream">
      {statusLabel[stream]}
    </span>
  );
}

/** How many releases wait for this person's approval, live. */
function ApprovalsBadge() {
  const count = useApprovals().data?.items.length ?? 0;
  return count ? (
    <span className="nav-badge" data-testid="approvals-badge" aria-label={`${count} waiting`}>
      {count}
    </span>
  ) : null;
}
