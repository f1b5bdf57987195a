import { mirrorSessionId, type ReleaseState } from '@glidepath/core';
import type { EventBus, JobQueue, PrismaClient } from '@glidepath/db';
import type { Egress, MetricRegistry, TargetSpec } from '@glidepath/providers';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../metrics.ts';
import { lookAtAnalysis } from './gates/analysis.gate.ts';
import { lookAtShadow, stopShadow } from './gates/shadow.gate.ts';
import { runSmokeGate } from './gates/smoke.gate.ts';
import { runWebhookGate, type GateResult } from './gates/webhook.gate.ts';

export interface GateDeps {
  prisma: PrismaClient;
  jobs: JobQueue;
  bus: EventBus;
  metricSources: MetricRegistry;
  egress: Egress;
  log: Logger;
  /** Signs webhook gate requests (Standard Webhooks) when set. */
  gateSigningSecret?: string;
  /** The mirroring proxies' control token, sent by shadow steps when set. */
  mirrorToken?: string;
  metrics?: Pick<WorkerMetrics, 'gateVerdicts' | 'gateDuration'>;
}

/**
 * Runs one gate of one step attempt and posts its verdict to the release's inbox. Safe to
 * run twice: the state machine ignores a verdict for a step attempt that is no longer current.
 */
export async function runGate(deps: GateDeps, payload: { releaseId: string; stepIndex: number; attempt: number }): Promise<GateResult | null> {
  const release = await deps.prisma.release.findUnique({ where: { id: payload.releaseId }, include: { environment: true, artifact: true, service: true } });
  if (!release) return null;
  const state = release.state as unknown as ReleaseState;
  const stepState = state.steps[payload.stepIndex];
  const step = state.plan.steps[payload.stepIndex];
  if (!step || stepState?.status !== 'running' || stepState.attempt !== payload.attempt || state.stepIndex !== payload.stepIndex) {
    // A shadow step that ended without its gate (the release aborted or rolled back meanwhile): its next look stops the copying.
    if (step?.type === 'shadow') await stopShadow(deps, step, mirrorSessionId(release.id, payload.stepIndex, payload.attempt));
    return null;
  }

  let result: GateResult | null;
  const endTimer = deps.metrics?.gateDuration.startTimer({ gate: step.type });
  const look = {
    releaseId: release.id,
    stepIndex: payload.stepIndex,
    attempt: payload.attempt,
    stepStartedAt: new Date(stepState.startedAt!),
    service: release.service.name,
    environment: {
      id: release.environmentId,
      name: release.environment.name,
      metrics: release.environment.metrics as unknown as TargetSpec | null,
      target: release.environment.target as unknown as TargetSpec,
    },
    canaryVersion: release.artifact.version,
    canaryDigest: release.artifact.digest,
    canaryMetadata: release.artifact.metadata as Record<string, unknown> | null,
  };
  const publish = (event: { type: string; data: unknown }) => deps.bus.publish(event);
  if (step.type === 'analysis') {
    result = await lookAtAnalysis({ ...deps, publish }, step, look, new Date());
    if (!result) return null; // not decided yet: the next look is scheduled
  } else if (step.type === 'shadow' && state.slots) {
    result = await lookAtShadow({ ...deps, publish }, step, { ...look, slot: state.slots.idle }, new Date());
    if (!result) return null;
  } else if (step.type === 'smoke' && release.environment.smokeBaseUrl) {
    result = await runSmokeGate(deps.egress, step, release.environment.smokeBaseUrl);
  } else if (step.type === 'webhook') {
    result = await runWebhookGate(
      deps.egress,
      step,
      {
        release: { id: release.id, stepIndex: payload.stepIndex, attempt: payload.attempt },
        service: release.service.name,
        environment: release.environment.name,
        artifact: { version: release.artifact.version, digest: release.artifact.digest, commitSha: release.artifact.commitSha },
      },
      deps.gateSigningSecret ? { secret: deps.gateSigningSecret, id: `gate_${release.id}_${payload.stepIndex}_${payload.attempt}` } : undefined,
    );
  } else {
    // Release creation refuses plans with gates this environment cannot run, so this is a configuration change since.
    result = { outcome: 'fail', summary: `no ${step.type} gate can run in environment ${release.environment.name}`, evidence: null };
  }
  endTimer?.();
  deps.metrics?.gateVerdicts.inc({ gate: step.type, outcome: result.outcome });
  const row = await deps.prisma.releaseInbox.create({
    data: {
      releaseId: release.id,
      event: {
        type: 'gate-verdict',
        stepIndex: payload.stepIndex,
        attempt: payload.attempt,
        outcome: result.outcome,
        evidence: result.evidence as object,
        summary: result.summary,
      },
      actorType: 'system',
      actorId: `gate:${step.type}`,
    },
  });
  await deps.jobs.reconcile(release.id, `inbox-${row.id}`);
  deps.log.info({ releaseId: release.id, step: payload.stepIndex, outcome: result.outcome }, result.summary);
  return result;
}
