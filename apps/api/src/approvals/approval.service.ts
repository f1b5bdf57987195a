import {
  approvalBinding,
  countingApprovals,
  mayApprove,
  personKeyOf,
  storedPolicy,
  type Approver,
  type ReleaseState,
  type Step,
  type StepState,
} from '@glidepath/core';
import { readAwaitingApproval, sqlPool, type AwaitingApproval, type PrismaClient } from '@glidepath/db';
import { AppError } from '../http/app-error.ts';
import { actorOf, type RequestIdentity } from '../identity/request-identity.ts';
import type { createReleaseService } from '../releases/release-service.ts';

type ReleaseService = ReturnType<typeof createReleaseService>;
type ApprovalStep = Extract<Step, { type: 'approval' }>;

const INCLUDE = {
  service: { select: { name: true } },
  environment: { select: { name: true, policy: true } },
  artifact: { select: { version: true, digest: true } },
  plan: { select: { name: true, version: true } },
} as const;

/**
 * Approvals: who may give one is core's mayApprove over the environment's policy, the
 * person's roles and groups and how recently they signed in; the release state machine keeps
 * the count. This service loads the data, asks, and hands the approval to the reconciler.
 */
export function createApprovalService(deps: { prisma: PrismaClient; releases: ReleaseService; maxAuthAgeMs: number; now?: () => number }) {
  const now = () => deps.now?.() ?? Date.now();
  const pool = sqlPool(deps.prisma);

  function approverOf(identity: RequestIdentity): Approver {
    return {
      kind: identity.kind,
      personKey: personKeyOf(identity),
      display: identity.name,
      tokenName: identity.kind === 'token' ? identity.name : null,
      groups: identity.groups,
      grants: identity.grants,
      authTime: identity.session?.authTime.getTime() ?? null,
    };
  }

  type ReleaseRow = NonNullable<Awaited<ReturnType<typeof findRelease>>>;
  const findRelease = (id: string) => deps.prisma.release.findUnique({ where: { id }, include: INCLUDE });

  async function load(id: string) {
    const release = await findRelease(id);
    if (!release) throw new AppError('not_found', `release ${id} does not exist`);
    return loaded(release);
  }

  /** What approving a release depends on: its state, the environment's policy, the approvals that still count. */
  function loaded(release: ReleaseRow) {
    const state = release.state as unknown as ReleaseState;
    const step = state.plan.steps[state.stepIndex];
    const stepState = state.steps[state.stepIndex];
    const approvalStep = step?.type === 'approval' && stepState && state.phase === 'awaiting-approval' ? (step as ApprovalStep) : null;
    const counting = approvalStep ? countingApprovals(state, approvalStep, stepState!, now()) : [];
    return { release, state, policy: storedPolicy(release.environment.policy), approvalStep, stepState, counting };
  }
  type Loaded = ReturnType<typeof loaded>;

  function decide(identity: RequestIdentity, loaded: Loaded, ignoreOwnApproval = false) {
    const { release, state, policy, approvalStep, counting } = loaded;
    return mayApprove(approverOf(identity), {
      policy,
      serviceId: release.serviceId,
      environmentId: release.environmentId,
      requesterKey: state.requesterKey ?? state.requestedBy,
      stepGroup: approvalStep?.group ?? null,
      approvedBy: ignoreOwnApproval ? [] : counting.map((a) => a.actorId),
      maxAuthAgeMs: deps.maxAuthAgeMs,
      now: now(),
    });
  }

  /** Refuses with the status that says why: not allowed (403), already done (409), sign in again (401). */
  function requireAllowed(identity: RequestIdentity, loaded: Loaded, ignoreOwnApproval = false) {
    const decision = decide(identity, loaded, ignoreOwnApproval);
    if (decision.allowed) return;
    if (decision.refusal === 'already-approved') throw new AppError('conflict', decision.reason);
    if (decision.refusal === 'reauthenticate') {
      const maxAge = Math.floor(deps.maxAuthAgeMs / 1000);
      const signIn = `/auth/login?maxAge=${maxAge}&returnTo=${encodeURIComponent(`/releases/${loaded.release.id}`)}`;
      throw new AppError('reauthentication_required', `${decision.reason} (${signIn})`, { signIn, maxAgeSeconds: maxAge });
    }
    throw new AppError('forbidden', decision.reason, { refusal: decision.refusal });
  }

  function requireWaiting(loaded: Loaded) {
    if (!loaded.approvalStep)
      throw new AppError('conflict', `release ${loaded.release.id} is not waiting for approval (it is ${loaded.state.phase})`, { phase: loaded.state.phase });
  }

  return {
    async approve(id: string, identity: RequestIdentity, comment: string | null, requestId: string, waitMs: number) {
      const loaded = await load(id);
      requireAllowed(identity, loaded);
      requireWaiting(loaded);
      const binding = approvalBinding(loaded.state);
      return deps.releases.control(
        id,
        { type: 'approve', actorId: personKeyOf(identity), display: identity.name, comment, ...(binding ? { binding } : {}) },
        { actor: actorOf(identity), requestId },
        waitMs,
      );
    },

    async reject(id: string, identity: RequestIdentity, comment: string, requestId: string, waitMs: number) {
      const loaded = await load(id);
      requireAllowed(identity, loaded, true);
      requireWaiting(loaded);
      return deps.releases.control(
        id,
        { type: 'reject', actorId: personKeyOf(identity), display: identity.name, comment },
        { actor: actorOf(identity), requestId },
        waitMs,
      );
    },

    /**
     * The releases waiting for an approval this caller may give, with what they would approve.
     * Not filtered by read rights: an approver group's members see what they are asked to approve.
     * One statement reads them all with what the inbox shows (packages/db); who may approve each
     * is core's mayApprove, as for approve itself.
     */
    async inbox(identity: RequestIdentity) {
      const at = now();
      const approver = approverOf(identity);
      const items = [];
      for (const waiting of await readAwaitingApproval(pool)) {
        const item = inboxItem(approver, waiting, at);
        if (item) items.push(item);
      }
      return items;
    },
  };

  /** The inbox entry for one waiting release, or null when this caller may not approve it (a sign-in too old still shows). */
  function inboxItem(approver: Approver, waiting: AwaitingApproval, at: number) {
    const { step, stepState } = waiting;
    if (waiting.statePhase !== 'awaiting-approval' || step?.type !== 'approval' || !stepState) return null;
    const approvalStep = step as ApprovalStep;
    // Approvals already given count only while bound to the release as it is and not expired: that needs the whole state.
    const counting = waiting.state ? countingApprovals(waiting.state as ReleaseState, approvalStep, stepState as StepState, at) : [];
    const decision = mayApprove(approver, {
      policy: storedPolicy(waiting.policy),
      serviceId: waiting.serviceId,
      environmentId: waiting.environmentId,
      requesterKey: waiting.requesterKey,
      stepGroup: approvalStep.group ?? null,
      approvedBy: counting.map((a) => a.actorId),
      maxAuthAgeMs: deps.maxAuthAgeMs,
      now: at,
    });
    if (!decision.allowed && decision.refusal !== 'reauthenticate') return null;
    return {
      release: waiting.release,
      requestedBy: waiting.requestedBy,
      stepIndex: waiting.stateStepIndex,
      requiredApprovals: approvalStep.count,
      group: approvalStep.group,
      approvals: counting.map((a) => ({ by: a.display ?? a.actorId, comment: a.comment, at: a.at })),
      waitingSince: stepState.startedAt,
      expiresAt: stepState.wakeAt,
      evidence: waiting.evidence,
      needsReauthentication: !decision.allowed,
    };
  }
}
