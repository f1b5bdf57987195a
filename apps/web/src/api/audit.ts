import { useInfiniteQuery, useMutation, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import { getJson } from './http.ts';
import type { AuditEvent, AuditPage, ChainVerification } from './types.ts';

const PAGE_SIZE = 50;
export const auditLogKey = ['audit', 'log'] as const;

/** Newest first. Kept fresh by the live stream (use-live-stream.ts), so it never goes stale by itself. */
export function useAuditLog() {
  return useInfiniteQuery({
    queryKey: auditLogKey,
    queryFn: ({ pageParam }) => getJson<AuditPage>('/api/v1/audit', { query: { limit: String(PAGE_SIZE), cursor: pageParam ?? undefined } }),
    initialPageParam: null as string | null,
    getNextPageParam: (lastPage) => lastPage.nextCursor,
    staleTime: Infinity,
  });
}

/** Puts a live event on top of the first page, unless it is already listed. */
export function prependAuditEvent(queryClient: QueryClient, event: AuditEvent): void {
  queryClient.setQueryData<InfiniteData<AuditPage, string | null>>(auditLogKey, (data) => {
    const [first, ...rest] = data?.pages ?? [];
    if (!data || !first || data.pages.some((page) => page.items.some((item) => item.seq === event.seq))) return data;
    return { ...data, pages: [{ ...first, items: [event, ...first.items] }, ...rest] };
  });
}

export function useVerifyChain() {
  return useMutation({ mutationFn: () => getJson<ChainVerification>('/api/v1/audit/verify') });
}
