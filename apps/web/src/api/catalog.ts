// What Glidepath knows about: services, their environments, artifacts, plans, and the
// promotion board that puts them together.
import { useQuery } from '@tanstack/react-query';
import { getJson } from './http.ts';
import type { Artifact, BoardService, Environment, Plan, PlanVersion, Service } from './model.ts';

export type { Artifact, BoardEnvironment, BoardService, Environment, Plan, PlanVersion, Service } from './model.ts';

export const catalogKey = ['catalog'] as const;
export const boardKey = [...catalogKey, 'board'] as const;

// Catalog entries change rarely and only through the API; the live stream refreshes them
// when an audit event says so (use-live-stream.ts).
const rarely = { staleTime: 60_000 } as const;

export function useServices() {
  return useQuery({ queryKey: [...catalogKey, 'services'], queryFn: () => getJson<{ items: Service[] }>('/api/v1/services'), ...rarely });
}

export function useService(id: string | undefined) {
  return useQuery({
    queryKey: [...catalogKey, 'service', id],
    queryFn: () => getJson<Service>(`/api/v1/services/${encodeURIComponent(id!)}`),
    enabled: Boolean(id),
    ...rarely,
  });
}

export function useEnvironments(service?: string, enabled = true) {
  return useQuery({
    enabled,
    queryKey: [...catalogKey, 'environments', service ?? null],
    queryFn: () => getJson<{ items: Environment[] }>('/api/v1/environments', { query: { service } }),
    ...rarely,
  });
}

export function useEnvironment(id: string) {
  return useQuery({
    queryKey: [...catalogKey, 'environment', id],
    queryFn: () => getJson<Environment>(`/api/v1/environments/${encodeURIComponent(id)}`),
    ...rarely,
  });
}

export function useArtifacts(service?: string, limit = 100) {
  return useQuery({
    queryKey: [...catalogKey, 'artifacts', service ?? null, limit],
    queryFn: () => getJson<{ items: Artifact[] }>('/api/v1/artifacts', { query: { service, limit: String(limit) } }),
    ...rarely,
  });
}

export function usePlans() {
  return useQuery({ queryKey: [...catalogKey, 'plans'], queryFn: () => getJson<{ items: Plan[] }>('/api/v1/plans'), ...rarely });
}

export function usePlan(name: string, version?: number) {
  return useQuery({
    queryKey: [...catalogKey, 'plan', name, version ?? null],
    queryFn: () => getJson<Plan>(`/api/v1/plans/${encodeURIComponent(name)}`, { query: { version: version ? String(version) : undefined } }),
    ...rarely,
  });
}

export function usePlanVersions(name: string) {
  return useQuery({
    queryKey: [...catalogKey, 'plan-versions', name],
    queryFn: () => getJson<{ items: PlanVersion[] }>(`/api/v1/plans/${encodeURIComponent(name)}/versions`),
    ...rarely,
  });
}

/** Kept fresh by the live stream: refetched (at most about once a second) when a release changes. */
export function useBoard() {
  return useQuery({ queryKey: boardKey, queryFn: () => getJson<{ items: BoardService[] }>('/api/v1/board'), staleTime: Infinity });
}
