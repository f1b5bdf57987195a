import type { ReleaseState } from './release-state.ts';

/**
 * A shadow release (plan strategy shadow) serves nothing: its version sits on the idle slot and
 * only gets copies of requests. So it ends without promotion (the live slot stays live, no router
 * call), cannot be promoted, and has nothing to switch back to after it succeeded: its success
 * says "the shadow passed", and a canary or blue-green release of the same artifact promotes it.
 */
export const isShadowRelease = (state: Pick<ReleaseState, 'plan'>): boolean => state.plan?.strategy === 'shadow';

export const SHADOW_REFUSALS = {
  promote: 'a shadow release serves nothing, so it promotes nothing: once it has passed, start a canary or blue-green release of the same artifact',
  switchBack: 'a shadow release never served traffic: there is nothing to switch back (the live slot stayed live throughout)',
} as const;

/** The mirroring proxy's session for one attempt of a shadow step: the same for every job that asks, new for a retry. */
export const mirrorSessionId = (releaseId: string, stepIndex: number, attempt: number): string => `${releaseId}:${stepIndex}:${attempt}`;
