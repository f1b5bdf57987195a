// Rollback drills of an environment: the history, and starting one on demand.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, csrf, unwrap } from './http.ts';
import { useMe } from './session.ts';
import type { Drill } from './model.ts';

export type { Drill } from './model.ts';

export const drillsKey = (environmentId: string) => ['drills', environmentId] as const;
const open = (d: Drill) => d.status === 'waiting' || d.status === 'running';

/** Newest first; looked at every second while one waits or runs, so its outcome and time appear when they are in. */
export function useDrills(environmentId: string) {
  return useQuery({
    queryKey: drillsKey(environmentId),
    queryFn: () => unwrap(api.GET('/api/v1/environments/{id}/drills', { params: { path: { id: environmentId }, query: { limit: 20 } } })),
    refetchInterval: (query) => (query.state.data?.items.some(open) ? 1000 : false),
  });
}

/** Starts a drill now; a refusal (a release in flight, a freeze, the previous version kept) comes back in the API's words. */
export function useRunDrill(environmentId: string) {
  const queryClient = useQueryClient();
  const me = useMe();
  return useMutation({
    mutationFn: (reason: string) =>
      unwrap(
        api.POST('/api/v1/environments/{id}/drills', {
          params: { path: { id: environmentId } },
          body: reason ? { reason } : {},
          ...csrf(me.data?.session?.csrfToken),
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: drillsKey(environmentId) }),
  });
}
