import { TERMINAL_PHASES, storedPolicy, type ReleaseState } from '@glidepath/core';
import type { PrismaClient } from '@glidepath/db';
import type { Readable } from '../identity/route-access.ts';
import { NOT_SHADOW } from '../releases/shadow-releases.ts';

const RUNNING_INCLUDE = { artifact: true, plan: true } as const;

/**
 * What runs where: for each service, its environments in promotion order with the version
 * last promoted to 100% in each, the releases still in flight, and which digest could move
 * on to the next environment. Only what the caller may read.
 */
export async function promotionBoard(prisma: PrismaClient, visible: Readable) {
  const services = await prisma.service.findMany({
    where: visible === 'all' ? {} : { id: { in: visible.serviceIds } },
    orderBy: { name: 'asc' },
    include: {
      environments: {
        where: visible === 'all' ? {} : { id: { in: visible.environmentIds } },
        orderBy: { position: 'asc' },
      },
    },
  });
  const environmentIds = services.flatMap((s) => s.environments.map((e) => e.id));
  const [running, inFlight] = await Promise.all([
    // The newest success per environment is what takes all traffic there (one row each).
    prisma.release.findMany({
      where: { environmentId: { in: environmentIds }, phase: 'succeeded', ...NOT_SHADOW },
      orderBy: [{ environmentId: 'asc' }, { finishedAt: 'desc' }],
      distinct: ['environmentId'],
      include: RUNNING_INCLUDE,
    }),
    prisma.release.findMany({
      where: { environmentId: { in: environmentIds }, phase: { notIn: [...TERMINAL_PHASES] } },
      orderBy: { createdAt: 'asc' },
      include: RUNNING_INCLUDE,
    }),
  ]);
  const runningIn = new Map(running.map((r) => [r.environmentId, r]));

  return services.map((service) => ({
    service: { id: service.id, name: service.name, description: service.description },
    environments: service.environments.map((env, i) => {
      const here = runningIn.get(env.id);
      const next = service.environments[i + 1];
      const nextDigest = next ? runningIn.get(next.id)?.artifact.digest : undefined;
      const movingNext = next ? inFlight.filter((r) => r.environmentId === next.id).map((r) => r.artifact.digest) : [];
      const policy = storedPolicy(env.policy);
      return {
        id: env.id,
        name: env.name,
        position: env.position,
        protected: policy.protected,
        requiredApprovals: policy.requiredApprovals,
        running: here
          ? {
              releaseId: here.id,
              version: here.artifact.version,
              digest: here.artifact.digest,
              plan: here.plan.name,
              since: (here.finishedAt ?? here.updatedAt).toISOString(),
            }
          : null,
        inFlight: inFlight.filter((r) => r.environmentId === env.id).map(inFlightJson),
        // A digest is worth promoting when the next environment runs another one and none is on its way.
        promotion:
          here && next && nextDigest !== here.artifact.digest && !movingNext.includes(here.artifact.digest)
            ? { to: { id: next.id, name: next.name }, version: here.artifact.version, digest: here.artifact.digest, plan: here.plan.name }
            : null,
      };
    }),
  }));
}

function inFlightJson(r: Awaited<ReturnType<PrismaClient['release']['findFirstOrThrow']>> & { artifact: { version: string; digest: string } }) {
  const state = r.state as unknown as ReleaseState;
  return {
    id: r.id,
    version: r.artifact.version,
    digest: r.artifact.digest,
    phase: r.phase,
    stepIndex: r.stepIndex,
    steps: state.plan?.steps.length ?? 0,
    canaryWeight: state.canaryWeight ?? 0,
    createdAt: r.createdAt.toISOString(),
  };
}
