import type { ConfigCheck, ConfigDestination, ConfigProblem } from './traffic-router.ts';

/** The artifact a deploy puts on a slot: identified by its digest, the rest is for people and receivers. */
export interface DeployArtifact {
  service: string;
  version: string;
  /** sha256:<64 lower-case hex digits>, as registered. */
  digest: string;
  commitSha?: string | null;
  buildUrl?: string | null;
}

export interface DeployRequest {
  /**
   * The idempotency key: one per deploy effect (release, step, attempt), the same when a worker
   * that died is replaced and asks again. A deployer runs one deployment per key, whatever the
   * number of calls: the command deployer keeps a record per key, the webhook deployer sends it
   * as `webhook-id` for the receiver to de-duplicate.
   */
  deploymentId: string;
  releaseId: string;
  environmentId: string;
  /** The slot (or batch of instances) to put the artifact on: a name such as `blue`, `green`, `batch-2`. */
  slot: string;
  artifact: DeployArtifact;
}

export interface RemoveRequest {
  /** The idempotency key of this removal, as `deploymentId` is for a deploy. */
  removalId: string;
  releaseId: string;
  environmentId: string;
  service: string;
  slot: string;
}

export interface DeployCallOptions {
  /** Stops waiting (worker shutting down); what was started goes on and a later call with the same key picks it up. */
  signal?: AbortSignal;
  /**
   * When the whole deploy must be ready by (epoch ms), so that a resumed call does not start
   * its timeouts again from zero. The deployer's own configured timeouts apply too; the
   * earlier one wins.
   */
  deadline?: number;
}

/**
 * What happened, for the release's evidence: the deployer's type, each step with its result
 * (receiver answers, exit code, the tail of the output, health checks), bounded in size.
 */
export type DeployEvidence = Record<string, unknown>;

/**
 * The end of a deploy, as data: deployers do not throw for a receiver, a command or a slot that
 * misbehaves. `failed` covers every way of not getting there: refused, timed out, a different
 * digest reported, contradictory answers, a health check that never passed, the network policy.
 */
export type DeployOutcome = { state: 'ready'; digest: string; evidence: DeployEvidence } | { state: 'failed'; reason: string; evidence: DeployEvidence };

export type RemoveOutcome = { state: 'removed'; evidence: DeployEvidence } | { state: 'failed'; reason: string; evidence: DeployEvidence };

/** One deployment (by its key) or whatever is on a slot now. */
export type DeploymentQuery = { slot: string; deploymentId?: string };

export type DeploymentState = 'pending' | 'ready' | 'failed' | 'removed' | 'unknown';

/** A snapshot of what the deployer knows, without waiting: `unknown` when it knows nothing of it. */
export interface DeploymentStatus {
  state: DeploymentState;
  slot: string;
  deploymentId: string | null;
  digest: string | null;
  reason: string | null;
  evidence: DeployEvidence;
}

/**
 * Puts an artifact on a slot and says when it is ready, or removes it. `deploy` resolves once the
 * deployment is ready (the deployer's own readiness, then the slot's health check when one is
 * configured) or has failed, and is idempotent per `deploymentId`: calling it again, from this
 * process or a replacement, never deploys twice and resolves to the same end.
 */
export interface Deployer {
  readonly type: string;
  deploy(request: DeployRequest, options?: DeployCallOptions): Promise<DeployOutcome>;
  status(query: DeploymentQuery, options?: DeployCallOptions): Promise<DeploymentStatus>;
  remove(request: RemoveRequest, options?: DeployCallOptions): Promise<RemoveOutcome>;
  /** Stops waiting on everything in flight; deployments already started are not cancelled. */
  close(): Promise<void>;
}

/** A kind of deployer: its own config schema, checked when an environment is registered. */
export interface DeployerProvider<C = unknown, D = unknown> {
  type: string;
  validateConfig(config: unknown): ConfigCheck<C>;
  /** Every place a valid config makes this deployer call (receiver, health check); none when absent. */
  destinations?(config: C): ConfigDestination[];
  /** What this host's own settings refuse in a valid config (a command outside the allowed directories). */
  permits?(config: C, deps: D): ConfigProblem[];
  create(config: C, deps: D): Deployer;
}
