import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, csrf, unwrap } from './http.ts';
import { boardKey } from './catalog.ts';
import { releaseDetailKey } from './releases.ts';
import { useMe, type Me } from './session.ts';
import type { ControlResult, Phase } from './model.ts';

export type { ControlResult, InboxItem } from './model.ts';

export type Control = 'pause' | 'resume' | 'promote' | 'abort' | 'rollback' | 'retry' | 'approve' | 'reject';

/** Where each control applies, as the API's state machine says (a refused one still answers 409 in words). */
export const CONTROL_PHASES: Record<Control, readonly Phase[]> = {
  pause: ['progressing'],
  resume: ['paused'],
  promote: ['progressing', 'paused'],
  abort: ['pending', 'queued', 'awaiting-approval', 'progressing', 'paused', 'failed'],
  // Succeeded: back to the previous slot at once while it is kept, else a release of the version before.
  rollback: ['queued', 'awaiting-approval', 'progressing', 'paused', 'failed', 'succeeded'],
  retry: ['failed', 'rolled-back', 'aborted'],
  approve: ['awaiting-approval'],
  reject: ['awaiting-approval'],
};

const ROLES_FOR: Record<'control' | 'approve', ReadonlyArray<Me['roles'][number]['role']>> = {
  control: ['deployer', 'admin'],
  approve: ['approver'],
};

/** Whether the signed-in person holds a role for this kind of action where the release runs (the API decides in the end). */
export function mayAct(me: Me | undefined, what: 'control' | 'approve', service: string, environment: string): boolean {
  return Boolean(
    me?.roles.some((r) => ROLES_FOR[what].includes(r.role) && (!r.service || (r.service === service && (!r.environment || r.environment === environment)))),
  );
}

export interface StartRelease {
  service: string;
  environment: string;
  version: string;
  plan: string;
  reason?: string;
}

/** Starts a release (the promotion board's "promote to the next environment"); refusals come back in the API's words. */
export function useStartRelease() {
  const queryClient = useQueryClient();
  const me = useMe();
  return useMutation({
    mutationFn: async (body: StartRelease) => {
      return unwrap(api.POST('/api/v1/releases', { body, ...csrf(me.data?.session?.csrfToken) }));
    },
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: boardKey }),
  });
}

/** A control on one release; the reply's release replaces the cached one at once. */
export function useReleaseControl(releaseId: string) {
  const queryClient = useQueryClient();
  const me = useMe();
  return useMutation({
    mutationFn: async ({ control, body }: { control: Control; body: Record<string, unknown> }) => {
      // Each control has its own body schema; the form builds the one it needs.
      const path = `/api/v1/releases/{id}/${control}` as '/api/v1/releases/{id}/pause';
      const reply: Promise<{ data?: ControlResult; error?: unknown; response: Response }> = api.POST(path, {
        params: { path: { id: releaseId }, query: { wait: 3000 } },
        body: body as never,
        ...csrf(me.data?.session?.csrfToken),
      });
      return unwrap(reply);
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: releaseDetailKey(releaseId) });
      void queryClient.invalidateQueries({ queryKey: approvalsKey });
    },
  });
}

export const approvalsKey = ['approvals'] as const;

/** What waits for the signed-in person's approval; kept fresh by the live stream. */
export function useApprovals(enabled = true) {
  return useQuery({ queryKey: approvalsKey, queryFn: () => unwrap(api.GET('/api/v1/approvals')), enabled, staleTime: 30_000 });
}
