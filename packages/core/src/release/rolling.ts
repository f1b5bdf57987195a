import type { CompiledPlan } from '../plan/compiled-plan.ts';
import type { Effect, ReleaseEvent, ReleaseState, RouterEffect } from './release-state.ts';

/**
 * Rolling releases on an environment with instances: each of the plan's setWeight steps is a batch
 * (its weight the cumulative share of instances replaced). A batch is taken out of rotation (router
 * weight 0), the new digest is deployed on each of its instances (one deployment per instance and
 * attempt, so a resumed worker never deploys twice), and once every one is ready they are put back
 * in rotation and the step completes; the plan's check and interval follow as ordinary steps.
 *
 * On failure (a deploy failed or reported another digest, a health check never passed, a check
 * failed) the replaced instances are put back on the version each ran before, recorded per instance
 * at creation: at once, taking every replaced instance out of rotation, when an instance of the
 * previous version is still serving; batch by batch in reverse order when none is (a failure in the
 * last batch). No instance is ever taken out of rotation if none would be left serving.
 */

export interface RollingArtifact {
  digest: string;
  version: string;
}

export interface InstanceDeploy {
  /** forward: the release's artifact; back: the version the instance ran before (a rollback). */
  direction: 'forward' | 'back';
  digest: string;
  version: string;
  /** The instance's deploy count in this release: its deployer key is `<release>:instance:<name>:<attempt>`. */
  attempt: number;
  status: 'running' | 'ready' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  /** When to ask again if no verdict came (its job was lost): the deployer answers for the same deployment. */
  wakeAt: string | null;
  deadline: string;
  reason: string | null;
  evidence: unknown;
}

export interface InstanceState {
  name: string;
  /** The batch (0-based) that replaces it. */
  batch: number;
  /** What it ran when the release was created; null when Glidepath never saw it, and a rollback cannot put it back. */
  previous: RollingArtifact | null;
  /** The digest it runs as far as the release knows: the previous one, then each ready deploy's. */
  digest: string | null;
  inRotation: boolean;
  /** The last deploy onto it in this release. */
  deploy: InstanceDeploy | null;
}

export interface RollingRollback {
  /** How the release ends once the rollback is over. */
  endPhase: 'rolled-back' | 'aborted';
  reason: string;
  /** Instance names put back group by group (one group when an instance of the previous version serves meanwhile). */
  groups: string[][];
  group: number;
  /** Instances left as they are, and why (no version known before, its deploy back failed, nothing else would serve). */
  notRestored: Array<{ instance: string; reason: string }>;
}

export interface RollingState {
  /** The release's own artifact. */
  target: RollingArtifact;
  instances: InstanceState[];
  /** As many as the plan's setWeight steps. */
  batches: number;
  /** The batch under way or last entered; -1 before the first. */
  batch: number;
  rollback: RollingRollback | null;
}

/** The weight an instance in rotation gets: every instance takes an equal share. */
export const IN_ROTATION_WEIGHT = 100;
const LEASE_MS = 120_000;
const DEADLINE_MS = 3_600_000;

/** The plan's batches: the cumulative percentages of its setWeight steps, in order. */
export function planBatches(plan: CompiledPlan): number[] {
  return plan.steps.flatMap((s) => (s.type === 'setWeight' ? [s.weight] : []));
}

/**
 * Cumulative instance counts per batch for `count` instances: ceil(p × count / 100), at most
 * count − 1 before the last batch (which takes the rest), so that no batch takes every instance out
 * of rotation at once. A batch may then add no instance (more batches than instances); it completes at once.
 */
export function rollingBatchCounts(count: number, percents: readonly number[]): { ok: true; counts: number[] } | { ok: false; problem: string } {
  if (count < 2) return { ok: false, problem: `a rolling release needs at least 2 instances, the environment has ${count}` };
  if (percents.length < 2)
    return {
      ok: false,
      problem: 'a rolling release on instances needs at least two batches: one batch of 100% would take every instance out of rotation at once',
    };
  const counts = percents.map((p, i) => (i === percents.length - 1 ? count : Math.min(count - 1, Math.max(1, Math.ceil((p * count) / 100)))));
  return { ok: true, counts };
}

/** The rolling state of a new release: instances in the environment's order, each with what it runs now. */
export function initialRollingState(
  plan: CompiledPlan,
  target: RollingArtifact,
  instances: ReadonlyArray<{ name: string; previous: RollingArtifact | null }>,
): { ok: true; rolling: RollingState } | { ok: false; problem: string } {
  const percents = planBatches(plan);
  const batching = rollingBatchCounts(instances.length, percents);
  if (!batching.ok) return batching;
  return {
    ok: true,
    rolling: {
      target,
      batches: percents.length,
      batch: -1,
      rollback: null,
      instances: instances.map((instance, j) => ({
        name: instance.name,
        batch: batching.counts.findIndex((c) => j < c),
        previous: instance.previous,
        digest: instance.previous?.digest ?? null,
        inRotation: true,
        deploy: null,
      })),
    },
  };
}

/** What the state machine lends this module: its state, effects, clock and step moves. */
export interface RollingHost {
  state: ReleaseState;
  effects: Effect[];
  readonly iso: string;
  at(ms: number): string;
  route(effect: RouterEffect): void;
  complete(evidence?: unknown): void;
  failStep(reason: string, evidence?: unknown): void;
}

const rollingOf = (host: RollingHost) => host.state.rolling!;
const named = (r: RollingState, name: string) => r.instances.find((i) => i.name === name);

/** The earliest lease of a deploy under way. */
export function rollingWakeAt(r: RollingState): string | null {
  const leases = r.instances.flatMap((i) => (i.deploy?.status === 'running' && i.deploy.wakeAt ? [i.deploy.wakeAt] : []));
  return leases.length ? leases.reduce((a, b) => (a < b ? a : b)) : null;
}

/** Why an event is refused on a rolling release, before the general rules. */
export function rollingRefusal(state: ReleaseState, event: ReleaseEvent): string | undefined {
  const r = state.rolling;
  if (!r) return undefined;
  const control = ['pause', 'resume', 'promote', 'rollback', 'retry', 'approve', 'reject', 'break-glass'].includes(event.type);
  if (r.rollback && r.rollback.group < r.rollback.groups.length && control)
    return `the release is putting its replaced instances back on the previous version (${r.rollback.reason}): wait for it, or abort to leave them as they are`;
  if (event.type === 'promote') return 'a rolling release replaces its instances batch by batch: promote cannot skip batches; let it run, or roll back';
  if (event.type === 'retry' && state.phase !== 'failed')
    return 'a rolling release that ended has put its instances back (or left them, saying why): start a new release instead';
  return undefined;
}

function weights(r: RollingState): Record<string, number> {
  return Object.fromEntries(r.instances.map((i) => [i.name, i.inRotation ? IN_ROTATION_WEIGHT : 0]));
}

/** The share of instances on the release's digest, as the canary weight people read. */
function share(r: RollingState): number {
  return Math.round((100 * r.instances.filter((i) => i.digest === r.target.digest).length) / r.instances.length);
}

function applyWeights(host: RollingHost): void {
  const r = rollingOf(host);
  host.route({ type: 'set-instance-weights', weights: weights(r) });
  host.state.canaryWeight = share(r);
}

function startDeploy(host: RollingHost, instance: InstanceState, direction: 'forward' | 'back', artifact: RollingArtifact): void {
  instance.deploy = {
    direction,
    digest: artifact.digest,
    version: artifact.version,
    attempt: (instance.deploy?.attempt ?? 0) + 1,
    status: 'running',
    startedAt: host.iso,
    finishedAt: null,
    wakeAt: host.at(LEASE_MS),
    deadline: host.at(DEADLINE_MS),
    reason: null,
    evidence: null,
  };
  host.effects.push(deployEffect(instance));
}

function deployEffect(instance: InstanceState): Effect {
  const d = instance.deploy!;
  return { type: 'deploy-instance', instance: instance.name, digest: d.digest, attempt: d.attempt, deadline: d.deadline };
}

/** The batch of the setWeight step at `stepIndex`: how many setWeight steps come before it. */
function batchOfStep(plan: CompiledPlan, stepIndex: number): number {
  return plan.steps.slice(0, stepIndex).filter((s) => s.type === 'setWeight').length;
}

/** Whether the current step is the running batch step. */
function inBatchStep(host: RollingHost): boolean {
  const { state } = host;
  return state.plan.steps[state.stepIndex]?.type === 'setWeight' && state.steps[state.stepIndex]?.status === 'running';
}

/** Enters the setWeight step at `stepIndex` of a rolling release: its batch leaves rotation and is deployed. */
export function startBatch(host: RollingHost, stepIndex: number): void {
  const r = rollingOf(host);
  r.batch = batchOfStep(host.state.plan, stepIndex);
  const members = r.instances.filter((i) => i.batch === r.batch);
  // Already on the new digest (a retry of this batch): nothing to deploy again.
  const todo = members.filter((i) => i.digest !== r.target.digest || i.deploy?.status !== 'ready');
  const serving = r.instances.filter((i) => i.inRotation && !todo.includes(i));
  if (todo.length && serving.length === 0) {
    const out = r.instances.filter((i) => !i.inRotation && !todo.includes(i)).map((i) => i.name);
    return host.failStep(
      `batch ${r.batch + 1} of ${r.batches} cannot leave rotation: no other instance would serve${out.length ? ` (${out.join(', ')} out of rotation)` : ''}`,
    );
  }
  for (const instance of todo) instance.inRotation = false;
  applyWeights(host);
  for (const instance of todo) {
    // A deploy of the new digest still under way (a retry while it runs) is waited for, not started again.
    if (instance.deploy?.status === 'running' && instance.deploy.direction === 'forward') continue;
    startDeploy(host, instance, 'forward', r.target);
  }
  batchProgress(host);
}

/** A deploy onto one instance ended. */
export function instanceVerdict(host: RollingHost, event: Extract<ReleaseEvent, { type: 'instance-verdict' }>): undefined {
  const r = host.state.rolling;
  const instance = r && named(r, event.instance);
  const d = instance?.deploy;
  // A verdict for an earlier attempt, or a second answer for this one, changes nothing: the first is final.
  if (!instance || !d || d.status !== 'running' || d.attempt !== event.attempt) return undefined;
  if (event.outcome === 'failed') settle(host, instance, 'failed', `failed: ${event.reason ?? 'no reason given'}`, event.evidence);
  else if (event.digest !== d.digest)
    settle(host, instance, 'failed', `reports ${event.digest ?? 'no digest'}, not ${d.digest} as asked`, event.evidence, event.digest ?? null);
  else settle(host, instance, 'ready', null, event.evidence, d.digest);
  progress(host);
  return undefined;
}

function settle(host: RollingHost, instance: InstanceState, status: 'ready' | 'failed', reason: string | null, evidence: unknown, digest?: string | null) {
  Object.assign(instance.deploy!, { status, finishedAt: host.iso, wakeAt: null, reason, evidence: evidence ?? null });
  // A failed deploy may have changed the instance or not: it is out of rotation until put back.
  if (digest !== undefined) instance.digest = digest;
  else if (status === 'failed') instance.digest = null;
}

/** Deploys past their deadline fail; those past their lease are asked again (same attempt). */
export function rollingTimer(host: RollingHost, now: number): void {
  const r = host.state.rolling;
  if (!r) return;
  let settled = false;
  for (const instance of r.instances) {
    const d = instance.deploy;
    if (d?.status !== 'running') continue;
    if (Date.parse(d.deadline) <= now) {
      settle(host, instance, 'failed', `did not finish by ${d.deadline}`, d.evidence);
      settled = true;
    } else if (d.wakeAt && Date.parse(d.wakeAt) <= now) {
      host.effects.push(deployEffect(instance));
      d.wakeAt = host.at(LEASE_MS);
    }
  }
  if (settled) progress(host);
}

function progress(host: RollingHost): void {
  const r = rollingOf(host);
  if (r.rollback) return rollbackProgress(host);
  if (host.state.phase !== 'progressing' && host.state.phase !== 'paused') return;
  if (inBatchStep(host) && batchOfStep(host.state.plan, host.state.stepIndex) === r.batch) batchProgress(host);
}

function deployEvidence(members: InstanceState[]) {
  return {
    instances: members.map((i) => ({
      instance: i.name,
      digest: i.digest,
      attempt: i.deploy?.attempt ?? 0,
      status: i.deploy?.status ?? null,
      reason: i.deploy?.reason ?? null,
    })),
  };
}

/** The batch step completes once every instance is ready with the new digest, and fails at the first that is not. */
function batchProgress(host: RollingHost): void {
  const r = rollingOf(host);
  const members = r.instances.filter((i) => i.batch === r.batch);
  const failed = members.find((i) => i.deploy?.status === 'failed' && i.deploy.direction === 'forward');
  if (failed) {
    const evidence = { ...deployEvidence(members), failed: failed.name, deployEvidence: failed.deploy!.evidence };
    return host.failStep(`batch ${r.batch + 1} of ${r.batches}: the deploy to instance ${failed.name} ${failed.deploy!.reason}`, evidence);
  }
  if (!members.every((i) => i.digest === r.target.digest && i.deploy?.status === 'ready')) return;
  for (const instance of members) instance.inRotation = true;
  applyWeights(host);
  host.complete({ batch: r.batch + 1, of: r.batches, ...deployEvidence(members) });
}

/**
 * The release ends (rolled back by a failure or a person, or aborted): put the replaced instances
 * back on what they ran before. The phase stays `progressing` until that is done. An abort during
 * the rollback stops it, leaving the instances as they are.
 */
export function startRollback(host: RollingHost, endPhase: 'rolled-back' | 'aborted', reason: string): void {
  const r = rollingOf(host);
  if (r.rollback) return finishRollback(host, endPhase, reason);
  const touched = r.instances.filter((i) => i.deploy !== null || !i.inRotation);
  const previousServing = r.instances.some((i) => !touched.includes(i) && i.inRotation);
  const groups = previousServing
    ? [touched.map((i) => i.name)]
    : Array.from({ length: r.batch + 1 }, (_, k) => r.batch - k)
        .map((b) => touched.filter((i) => i.batch === b).map((i) => i.name))
        .filter((g) => g.length);
  r.rollback = { endPhase, reason, groups, group: 0, notRestored: [] };
  Object.assign(host.state, { phase: 'progressing', reason: `rolling back: ${reason}`, finishedAt: null });
  if (!groups.length) return finishRollback(host, endPhase, reason);
  startGroup(host);
}

/** Takes the group out of rotation (but never the last instance serving) and starts its deploys back. */
function startGroup(host: RollingHost): void {
  const r = rollingOf(host);
  const rb = r.rollback!;
  for (const name of rb.groups[rb.group]!) {
    const instance = named(r, name)!;
    if (r.instances.filter((i) => i.inRotation && i !== instance).length === 0) {
      rb.notRestored.push({ instance: name, reason: 'left in rotation as it is: no other instance would serve' });
      continue;
    }
    instance.inRotation = false;
    if (!instance.previous) rb.notRestored.push({ instance: name, reason: 'left out of rotation: the version it ran before is not known' });
  }
  applyWeights(host);
  rollbackProgress(host);
}

function rollbackProgress(host: RollingHost): void {
  const r = rollingOf(host);
  const rb = r.rollback!;
  if (rb.group >= rb.groups.length) return;
  const left = new Set(rb.notRestored.map((n) => n.instance));
  let waiting = false;
  for (const name of rb.groups[rb.group]!) {
    const instance = named(r, name)!;
    if (left.has(name) || !instance.previous) continue;
    const d = instance.deploy;
    // A deploy still under way is waited for: a later one could otherwise finish after the deploy back.
    if (d?.status === 'running') waiting = true;
    else if (d?.direction !== 'back') {
      startDeploy(host, instance, 'back', instance.previous);
      waiting = true;
    } else if (d.status === 'ready') instance.inRotation = true;
    else rb.notRestored.push({ instance: name, reason: `left out of rotation: the deploy back to ${d.digest} ${d.reason}` });
  }
  if (waiting) return;
  applyWeights(host);
  rb.group += 1;
  if (rb.group < rb.groups.length) return startGroup(host);
  finishRollback(host, rb.endPhase, rb.reason);
}

function finishRollback(host: RollingHost, phase: 'rolled-back' | 'aborted', reason: string): void {
  const r = rollingOf(host);
  const rb = r.rollback;
  if (rb) rb.group = rb.groups.length;
  const left = rb?.notRestored ?? [];
  Object.assign(host.state, {
    phase,
    reason: left.length ? `${reason}; not put back: ${left.map((n) => `${n.instance} (${n.reason})`).join('; ')}` : reason,
    finishedAt: host.iso,
    canaryWeight: share(r),
  });
}

/** Before a retry of a failed rolling release: every instance whose last deploy did not fail serves again. */
export function rollingRetry(host: RollingHost): void {
  const r = rollingOf(host);
  for (const instance of r.instances) instance.inRotation = instance.deploy === null || instance.deploy.status === 'ready';
  applyWeights(host);
}
