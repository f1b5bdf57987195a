import type { QueryClient, QueryKey } from '@tanstack/react-query';

const MIN_REFETCH_GAP_MS = 1000;
const refetches = new WeakMap<QueryClient, Map<string, { again: boolean }>>();

/**
 * Refetches a query in reply to pushed events without letting a burst of them become a burst of
 * requests: one refetch at a time per query, and at most one more after it, a second later.
 */
export function refetchThrottled(queryClient: QueryClient, queryKey: QueryKey): void {
  const running = refetches.get(queryClient) ?? new Map<string, { again: boolean }>();
  refetches.set(queryClient, running);
  const id = JSON.stringify(queryKey);
  const current = running.get(id);
  if (current) {
    current.again = true;
    return;
  }
  const state = { again: false };
  running.set(id, state);
  void queryClient
    .invalidateQueries({ queryKey, exact: true }, { cancelRefetch: false })
    .catch(() => {})
    .then(() => new Promise((resolve) => setTimeout(resolve, MIN_REFETCH_GAP_MS)))
    .then(() => {
      running.delete(id);
      if (state.again) refetchThrottled(queryClient, queryKey);
    });
}
