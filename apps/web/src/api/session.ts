import { useQuery } from '@tanstack/react-query';
import { api, ApiError, unwrap } from './http.ts';
import type { Me, ScopedRole, SsoStatus } from './model.ts';

export type { Me, ScopedRole, SsoStatus } from './model.ts';

export const meKey = ['me'] as const;

/** The signed-in person; a 401 sends the browser to the sign-in page (see main.tsx). */
export function useMe() {
  return useQuery({ queryKey: meKey, queryFn: () => unwrap(api.GET('/api/v1/me')), staleTime: 5 * 60_000, retry: false });
}

export function useSsoStatus() {
  return useQuery({ queryKey: ['sso-status'], queryFn: (): Promise<SsoStatus> => unwrap(api.GET('/auth/status')), retry: false });
}

/** "admin", "approver of checkout-api/prod": how a role reads in the header. */
export function describeRole(r: ScopedRole): string {
  if (!r.service) return r.role;
  return `${r.role} of ${r.service}${r.environment ? `/${r.environment}` : ''}`;
}

/** The audit log is read with a role granted everywhere (any role carries audit:read). */
export function readsAudit(me: Me | undefined): boolean {
  return Boolean(me?.roles.some((r) => !r.service));
}

export function signInPath(returnTo = `${location.pathname}${location.search}`): string {
  return `/login?returnTo=${encodeURIComponent(returnTo)}`;
}

export async function signOut(csrfToken: string): Promise<void> {
  const response = await fetch('/auth/logout', { method: 'POST', headers: { 'x-csrf-token': csrfToken } });
  if (!response.ok) throw new ApiError(response.status, 'sign_out_failed', `sign-out failed: ${response.status}`);
}
