import { useQuery } from '@tanstack/react-query';
import { getJson } from './http.ts';
import type { Readiness } from './model.ts';

export function useReadiness() {
  return useQuery({
    queryKey: ['readyz'],
    queryFn: () => getJson<Readiness>('/readyz', { acceptStatus: [503] }),
    refetchInterval: 10_000,
  });
}
