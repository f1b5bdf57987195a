import { randomUUID } from 'node:crypto';
import { initialReleaseState, validatePlan, type PlanSpec } from '@glidepath/core';
import type { JobQueue, PrismaClient } from '@glidepath/db';

/**
 * Creates a service with one recording-router environment per release and starts the
 * releases the way the API does (row + `start` in the inbox + a reconcile job), so worker
 * tests and benchmarks need no API process.
 */
export async function seedReleases(
  prisma: PrismaClient,
  jobs: JobQueue,
  options: { count: number; plan: PlanSpec; service?: string; recordingLatencyMs?: number },
): Promise<string[]> {
  const compiled = validatePlan(options.plan);
  if (!compiled.ok) throw new Error(`bad plan: ${JSON.stringify(compiled.problems)}`);
  const service = await prisma.service.create({ data: { id: randomUUID(), name: options.service ?? `svc-${randomUUID().slice(0, 8)}`, owners: [] } });
  const plan = await prisma.releasePlan.create({
    data: { id: randomUUID(), name: `plan-${service.name}`, version: 1, spec: options.plan as object, compiled: compiled.plan as object, createdBy: 'test' },
  });
  const ids: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const env = await prisma.environment.create({
      data: {
        id: randomUUID(),
        serviceId: service.id,
        name: `env-${i}`,
        position: i,
        requireUpstreamSuccess: false,
        target: { type: 'recording', config: { key: `env-${i}`, ...(options.recordingLatencyMs ? { latencyMs: options.recordingLatencyMs } : {}) } },
        policy: {},
      },
    });
    const artifact = await prisma.artifact.create({
      data: { id: randomUUID(), serviceId: service.id, version: `1.0.${i}`, digest: `sha256:${i.toString(16).padStart(64, '0')}` },
    });
    const state = initialReleaseState(compiled.plan, 'token:ci');
    const release = await prisma.release.create({
      data: {
        id: randomUUID(),
        serviceId: service.id,
        environmentId: env.id,
        artifactId: artifact.id,
        planId: plan.id,
        phase: 'pending',
        stepIndex: 0,
        state: state as object,
        version: 0,
        requestedBy: 'token:ci',
      },
    });
    const inbox = await prisma.releaseInbox.create({ data: { releaseId: release.id, event: { type: 'start' }, actorType: 'token', actorId: 'ci' } });
    await jobs.startRelease(release.id, `inbox-${inbox.id}`);
    ids.push(release.id);
  }
  return ids;
}
