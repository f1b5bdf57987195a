/** Queue and job naming shared by the API (which enqueues) and the worker (which runs). */
export const QUEUE_NAME = 'glidepath';

export const JOB = {
  reconcileRelease: 'release.reconcile',
  runGate: 'release.run-gate',
  runDeploy: 'release.deploy',
  verifyAuditChain: 'audit.verify-chain',
  deliverWebhooks: 'webhook.deliver',
} as const;

/**
 * Deterministic ids: the same trigger never enqueues twice. BullMQ ids may not contain ':'.
 * `trigger` names why the reconcile runs: an inbox event id, a wake-up time, a sweep round.
 */
export const reconcileJobId = (releaseId: string, trigger: string) => `reconcile.${releaseId}.${trigger}`;
export const gateJobId = (releaseId: string, stepIndex: number, attempt: number) => `gate.${releaseId}.${stepIndex}.${attempt}`;
export const deployJobId = (releaseId: string, attempt: number) => `deploy.${releaseId}.${attempt}`;
