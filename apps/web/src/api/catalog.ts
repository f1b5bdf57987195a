// What Glidepath knows about: services, their environments, artifacts, plans, and the
// promotion board that puts them together.
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from './http.ts';

export type { Artifact, BoardEnvironment, BoardService, Environment, Plan, PlanVersion, Service } from './model.ts';

export const catalogKey = ['catalog'] as const;
export const boardKey = [...catalogKey, 'board'] as const;

// Catalog entries change rarely and only through the API; the live stream refreshes them
// when an audit event says so (use-live-stream.ts).
const rarely = { staleTime: 60_000 } as const;

export function useServices() {
  return useQuery({ queryKey: [...catalogKey, 'services'], queryFn: () => unwrap(api.GET('/api/v1/services')), ...rarely });
}

export function useService(id: string | undefined) {
  return useQuery({
    queryKey: [...catalogKey, 'service', id],
    queryFn: () => unwrap(api.GET('/api/v1/services/{id}', { params: { path: { id: id! } } })),
    enabled: Boolean(id),
    ...rarely,
  });
}

export function useEnvironments(service?: string, enabled = true) {
  return useQuery({
    enabled,
    queryKey: [...catalogKey, 'environments', service ?? null],
    queryFn: () => unwrap(api.GET('/api/v1/environments', { params: { query: { service } } })),
    ...rarely,
  });
}

export function useEnvironment(id: string) {
  return useQuery({
    queryKey: [...catalogKey, 'environment', id],
    queryFn: () => unwrap(api.GET('/api/v1/environments/{id}', { params: { path: { id } } })),
    ...rarely,
  });
}

export function useArtifacts(service?: string, limit = 100) {
  return useQuery({
    queryKey: [...catalogKey, 'artifacts', service ?? null, limit],
    queryFn: () => unwrap(api.GET('/api/v1/artifacts', { params: { query: { service, limit } } })),
    ...rarely,
  });
}

export function usePlans() {
  return useQuery({ queryKey: [...catalogKey, 'plans'], queryFn: () => unwrap(api.GET('/api/v1/plans')), ...rarely });
}

export function usePlan(name: string, version?: number) {
  return useQuery({
    queryKey: [...catalogKey, 'plan', name, version ?? null],
    queryFn: () => unwrap(api.GET('/api/v1/plans/{name}', { params: { path: { name }, query: { version } } })),
    ...rarely,
  });
}

export function usePlanVersions(name: string) {
  return useQuery({
    queryKey: [...catalogKey, 'plan-versions', name],
    queryFn: () => unwrap(api.GET('/api/v1/plans/{name}/versions', { params: { path: { name } } })),
    ...rarely,
  });
}

/** Kept fresh by the live stream: refetched (at most about once a second) when a release changes. */
export function useBoard() {
  return useQuery({ queryKey: boardKey, queryFn: () => unwrap(api.GET('/api/v1/board')), staleTime: Infinity });
}
