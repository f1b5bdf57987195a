import { useInfiniteQuery, useMutation, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import { api, unwrap } from './http.ts';
import { refetchThrottled } from './refetch-throttled.ts';
import type { AuditEvent, AuditPage, ChainVerification } from './model.ts';

const PAGE_SIZE = 50;
export const auditLogKey = ['audit', 'log'] as const;

/** The filters GET /api/v1/audit takes; empty strings are left out. */
export interface AuditFilter {
  actor?: string;
  action?: string;
  service?: string;
  environmentId?: string;
  requestId?: string;
  from?: string;
  to?: string;
}

export function auditQuery(filter: AuditFilter): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, v ? String(v) : undefined]));
}

/** Newest first. Kept fresh by the live stream (use-live-stream.ts), so it never goes stale by itself. */
export function useAuditLog(filter: AuditFilter = {}) {
  return useInfiniteQuery({
    queryKey: [...auditLogKey, filter],
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/v1/audit', { params: { query: { ...filter, limit: PAGE_SIZE, cursor: pageParam ?? undefined } } })),
    initialPageParam: null as string | null,
    getNextPageParam: (lastPage) => lastPage.nextCursor,
    staleTime: Infinity,
  });
}

/**
 * A live event goes on top of every listed page it belongs to. Whether it matches is clear
 * from the event, except for a service filter (which environments are the service's is the
 * API's to say): such a list is fetched again, at most about once a second.
 */
export function prependAuditEvent(queryClient: QueryClient, event: AuditEvent): void {
  for (const [queryKey, data] of queryClient.getQueriesData<InfiniteData<AuditPage, string | null>>({ queryKey: auditLogKey })) {
    const filter = (queryKey[2] ?? {}) as AuditFilter;
    const [first, ...rest] = data?.pages ?? [];
    if (!data || !first || data.pages.some((page) => page.items.some((item) => item.seq === event.seq))) continue;
    if (!matches(event, filter)) continue;
    if (filter.service) {
      refetchThrottled(queryClient, queryKey);
      continue;
    }
    queryClient.setQueryData(queryKey, { ...data, pages: [{ ...first, items: [event, ...first.items] }, ...rest] });
  }
}

function matches(event: AuditEvent, filter: AuditFilter): boolean {
  const actor = filter.actor?.toLowerCase();
  return (
    (!actor || event.actor.id === filter.actor || event.actor.name?.toLowerCase() === actor) &&
    (!filter.action || event.action === filter.action) &&
    (!filter.environmentId || event.environmentId === filter.environmentId) &&
    (!filter.requestId || event.requestId === filter.requestId) &&
    (!filter.from || Date.parse(event.createdAt) >= Date.parse(filter.from)) &&
    (!filter.to || Date.parse(event.createdAt) < Date.parse(filter.to))
  );
}

export function useVerifyChain() {
  return useMutation({ mutationFn: (): Promise<ChainVerification> => unwrap(api.GET('/api/v1/audit/verify')) });
}
