import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from './http.ts';
import type { Readiness } from './model.ts';

export function useReadiness() {
  return useQuery({
    queryKey: ['readyz'],
    queryFn: (): Promise<Readiness> => unwrap(api.GET('/readyz'), [503]),
    refetchInterval: 10_000,
  });
}
