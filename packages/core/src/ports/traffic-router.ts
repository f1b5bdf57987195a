/** What a router needs to know to shift one release's traffic. */
export interface TrafficTarget {
  releaseId: string;
  environmentId: string;
  service: string;
  canary: { version: string; digest: string };
  stable: { version: string; digest: string } | null;
  /**
   * Slots that alternate (an environment with a deployer): the canary runs on `idle`, the stable
   * version on `live`, so which server is which changes from one release to the next. A router
   * that can, takes these names instead of its configured stable/canary servers.
   */
  slots?: { live: string; idle: string };
}

/** Identifies one effect of one committed transition; repeated only when the same effect is re-applied. */
export interface EffectContext {
  effectKey: string;
}

/**
 * Modelled on Argo Rollouts' traffic router plugins. Every call is absolute and idempotent;
 * a failure throws, so the transition that asked for it is not committed and is retried.
 */
export interface TrafficRouter {
  readonly type: string;
  setWeight(target: TrafficTarget, canaryWeight: number, ctx: EffectContext): Promise<void>;
  /** true / false when the router can tell, 'unsupported' when it cannot. */
  verifyWeight(target: TrafficTarget, canaryWeight: number): Promise<boolean | 'unsupported'>;
  /** All traffic to the canary, which becomes the stable version. */
  promote(target: TrafficTarget, ctx: EffectContext): Promise<void>;
  /** All traffic back to the stable version. */
  rollback(target: TrafficTarget, ctx: EffectContext): Promise<void>;
  /**
   * Instances replaced in place (a rolling release): every named server's weight, absolute (0 takes
   * it out of rotation), applied so that no moment has every one at 0. Routers without it cannot
   * serve an environment with instances.
   */
  setInstanceWeights?(target: TrafficTarget, weights: Readonly<Record<string, number>>, ctx: EffectContext): Promise<void>;
  /** Of these instance names, the ones the router does not know (checked when an environment names them); throws when it cannot tell now. */
  unknownInstances?(names: readonly string[]): Promise<Array<{ name: string; reason: string }>>;
  close(): Promise<void>;
}

export interface ConfigProblem {
  path: string;
  message: string;
}
export type ConfigCheck<C> = { ok: true; config: C } | { ok: false; problems: ConfigProblem[] };

/** Where a config sends calls, as HTTP(S) URL, TCP address or unix socket. */
export type OutboundTarget = { kind: 'url'; url: string } | { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** A place a provider config calls, with the config field that names it (checked against the network policy at registration). */
export interface ConfigDestination {
  path: string;
  target: OutboundTarget;
}

/** A kind of router: its own config schema, checked when an environment is registered. */
export interface TrafficRouterProvider<C = unknown, D = unknown> {
  type: string;
  validateConfig(config: unknown): ConfigCheck<C>;
  /** Every place a valid config makes this router call; none when absent. */
  destinations?(config: C): ConfigDestination[];
  /** Whether its routers set each instance's weight (setInstanceWeights): only then may an environment name instances. */
  setsInstanceWeights?: boolean;
  create(config: C, deps: D): TrafficRouter;
}
