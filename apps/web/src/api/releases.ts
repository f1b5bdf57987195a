import { useInfiniteQuery, useQuery, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from './http.ts';
import { refetchThrottled } from './refetch-throttled.ts';
import { TERMINAL_PHASES, type Phase, type Release, type ReleasePage, type ReleaseUpdate } from './model.ts';

const PAGE_SIZE = 50;

export interface ReleaseFilter {
  phase?: Phase;
}

export const releasesKey = ['releases'] as const;
const listKey = [...releasesKey, 'list'] as const;
export const releaseListKey = (filter: ReleaseFilter) => [...listKey, filter] as const;
export const releaseDetailKey = (id: string) => [...releasesKey, 'detail', id] as const;

/** Newest first. Kept fresh by the live stream (use-live-stream.ts), so it never goes stale by itself. */
export function useReleases(filter: ReleaseFilter) {
  return useInfiniteQuery({
    queryKey: releaseListKey(filter),
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/api/v1/releases', { params: { query: { limit: PAGE_SIZE, phase: filter.phase, cursor: pageParam ?? undefined } } })),
    initialPageParam: null as string | null,
    getNextPageParam: (lastPage) => lastPage.nextCursor,
    staleTime: Infinity,
  });
}

/** Refetched when the stream says the release changed or was measured again. */
export function useRelease(id: string) {
  return useQuery({
    queryKey: releaseDetailKey(id),
    queryFn: () => unwrap(api.GET('/api/v1/releases/{id}', { params: { path: { id } } })),
    staleTime: Infinity,
    // An unknown or malformed id stays so: only a server error is worth one more try.
    retry: (failures, error) => failures < 1 && !(error instanceof ApiError && error.status < 500),
  });
}

type ListData = InfiniteData<ReleasePage, string | null>;
type ListKey = ReturnType<typeof releaseListKey>;

/**
 * Applies a `release.updated` event to every cached list. The event carries only the fields that
 * change while a release runs, so a list is fetched again when patching cannot be enough: a
 * release just started that it does not show yet, one that just entered its phase filter, or a
 * listed one whose start or end time changed. Releases beyond the loaded pages stay unloaded.
 */
export function applyReleaseUpdate(queryClient: QueryClient, update: ReleaseUpdate): void {
  for (const [queryKey, data] of queryClient.getQueriesData<ListData>({ queryKey: listKey })) {
    if (!data) continue;
    const filter = (queryKey[2] ?? {}) as ReleaseFilter;
    const matches = !filter.phase || filter.phase === update.phase;
    const current = data.pages.flatMap((page) => page.items).find((item) => item.id === update.id);
    if (!current) {
      // Version 1 is the start: new releases otherwise arrive through their release.created audit event.
      if (filter.phase ? matches : update.version <= 1) refetchThrottled(queryClient, queryKey as ListKey);
      continue;
    }
    if (current.version >= update.version) continue; // an older event arriving late
    queryClient.setQueryData<ListData>(queryKey, {
      ...data,
      pages: data.pages.map((page) => ({
        ...page,
        items: matches ? page.items.map((item) => (item.id === update.id ? patch(item, update) : item)) : page.items.filter((item) => item.id !== update.id),
      })),
    });
    if (matches && timesChange(current, update.phase)) refetchThrottled(queryClient, queryKey as ListKey);
  }
  invalidateRelease(queryClient, update.id);
}

/**
 * A release created through the API shows in the lists at once, before any engine picked it
 * up: that one release is fetched and put on top, instead of every loaded page again.
 */
export async function insertCreatedRelease(queryClient: QueryClient, id: string): Promise<void> {
  if (!queryClient.getQueriesData<ListData>({ queryKey: listKey }).length) return;
  let release: Release;
  try {
    const { measurements: _m, history: _h, ...rest } = await unwrap(api.GET('/api/v1/releases/{id}', { params: { path: { id } } }));
    release = rest;
  } catch {
    return refetchReleaseLists(queryClient);
  }
  for (const [queryKey, data] of queryClient.getQueriesData<ListData>({ queryKey: listKey })) {
    const [first, ...rest] = data?.pages ?? [];
    const filter = (queryKey[2] ?? {}) as ReleaseFilter;
    if (!data || !first || (filter.phase && filter.phase !== release.phase)) continue;
    if (data.pages.some((page) => page.items.some((item) => item.id === id))) continue;
    queryClient.setQueryData<ListData>(queryKey, { ...data, pages: [{ ...first, items: [release, ...first.items] }, ...rest] });
  }
}

/** Every cached list again (after the stream was down and events may be missing). */
export function refetchReleaseLists(queryClient: QueryClient): void {
  for (const query of queryClient.getQueryCache().findAll({ queryKey: listKey })) refetchThrottled(queryClient, query.queryKey as ListKey);
}

/** A release rolled back by a new release of the version before: the lists name that release, the detail is read again. */
export function markUndone(queryClient: QueryClient, id: string, undoneBy: string): void {
  for (const [queryKey, data] of queryClient.getQueriesData<ListData>({ queryKey: listKey })) {
    if (!data?.pages.some((page) => page.items.some((item) => item.id === id))) continue;
    queryClient.setQueryData<ListData>(queryKey, {
      ...data,
      pages: data.pages.map((page) => ({ ...page, items: page.items.map((item) => (item.id === id ? { ...item, undoneBy } : item)) })),
    });
  }
  invalidateRelease(queryClient, id);
}

export function invalidateRelease(queryClient: QueryClient, id: string): void {
  void queryClient.invalidateQueries({ queryKey: releaseDetailKey(id) });
}

function patch(item: Release, update: ReleaseUpdate): Release {
  const { phase, stepIndex, canaryWeight, reason, version } = update;
  return { ...item, phase, stepIndex, canaryWeight, reason, version };
}

/** startedAt is set when a release leaves `pending`; finishedAt while it is in a terminal phase. */
function timesChange(item: Release, phase: Phase): boolean {
  return (item.startedAt === null && phase !== 'pending') || (item.finishedAt !== null) !== TERMINAL_PHASES.includes(phase);
}
