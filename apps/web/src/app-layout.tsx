import { NavLink, Outlet } from 'react-router';
import { useLiveStream, type StreamStatus } from './api/use-live-stream.ts';

const nav = [
  { to: '/', label: 'Overview', end: true },
  { to: '/releases', label: 'Releases', end: false },
];

const statusLabel: Record<StreamStatus, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };

export function AppLayout() {
  const stream = useLiveStream();
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Glidepath</span>
        <span className={`stream stream-${stream}`} data-testid="stream-status" title="Live updates from /api/v1/stream">
          {statusLabel[stream]}
        </span>
      </header>
      <nav className="sidenav">
        {nav.map((item) => (
          <NavLink key={item.to} to={item.to} end={item.end}>
            {item.label}
          </NavLink>
        ))}
      </nav>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
