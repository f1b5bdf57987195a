import type { ReleaseState } from '@glidepath/core';

/** The small form of a release published on the live stream after every change. */
export function releaseSummary(release: { id: string; serviceId: string; environmentId: string; version: number }, state: ReleaseState) {
  return {
    id: release.id,
    serviceId: release.serviceId,
    environmentId: release.environmentId,
    version: release.version,
    phase: state.phase,
    stepIndex: state.stepIndex,
    canaryWeight: state.canaryWeight,
    reason: state.reason,
  };
}
