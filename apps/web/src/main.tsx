import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router';
import { AppLayout } from './app-layout.tsx';
import { ApiError } from './api/http.ts';
import { signInPath } from './api/session.ts';
import { LoginPage } from './pages/login.page.tsx';
import { ApprovalsPage } from './pages/approvals.page.tsx';
import { TokensPage } from './pages/tokens.page.tsx';
import { NotFoundPage } from './pages/not-found.page.tsx';
import { OverviewPage } from './pages/overview.page.tsx';
import { ReleasesPage } from './pages/releases.page.tsx';
import { BoardPage } from './pages/board.page.tsx';
import { ServicePage, ServicesPage } from './pages/services.page.tsx';
import { EnvironmentPage } from './pages/environment.page.tsx';
import { ArtifactsPage } from './pages/artifacts.page.tsx';
import { PlanPage, PlansPage } from './pages/plans.page.tsx';
import { AuditPage } from './pages/audit.page.tsx';
import './styles.css';

// Pages with charts (Recharts) load when first opened.
const DoraPage = lazy(() => import('./pages/dora.page.tsx').then((m) => ({ default: m.DoraPage })));
const ReleaseDetailPage = lazy(() => import('./pages/release-detail.page.tsx').then((m) => ({ default: m.ReleaseDetailPage })));

// Any 401 (never signed in, signed out elsewhere, session expired) goes to the sign-in page and back.
const queryClient = new QueryClient({
  queryCache: new QueryCache({
    onError: (error) => {
      if (error instanceof ApiError && error.status === 401 && location.pathname !== '/login') location.assign(signInPath());
    },
  }),
  defaultOptions: { queries: { retry: (failures, error) => failures < 1 && !(error instanceof ApiError && error.status < 500) } },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <Routes>
          <Route path="login" element={<LoginPage />} />
          <Route element={<AppLayout />}>
            <Route index element={<OverviewPage />} />
            <Route path="board" element={<BoardPage />} />
            <Route path="releases" element={<ReleasesPage />} />
            <Route path="services" element={<ServicesPage />} />
            <Route path="services/:id" element={<ServicePage />} />
            <Route path="environments/:id" element={<EnvironmentPage />} />
            <Route path="artifacts" element={<ArtifactsPage />} />
            <Route path="plans" element={<PlansPage />} />
            <Route path="plans/:name" element={<PlanPage />} />
            <Route path="audit" element={<AuditPage />} />
            <Route path="approvals" element={<ApprovalsPage />} />
            <Route path="tokens" element={<TokensPage />} />
            <Route
              path="dora"
              element={
                <Suspense fallback={<p className="muted">Loading…</p>}>
                  <DoraPage />
                </Suspense>
              }
            />
            <Route
              path="releases/:id"
              element={
                <Suspense fallback={<p className="muted">Loading…</p>}>
                  <ReleaseDetailPage />
                </Suspense>
              }
            />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
