import type { ConfigCheck, ConfigDestination, TrafficRouter, TrafficRouterProvider } from '@glidepath/core';

export interface TargetSpec {
  type: string;
  config: unknown;
}

/** Maps a router type to its provider; adding a provider never edits core. */
// Each provider has its own config type; the registry only passes back what that provider validated.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRouterProvider<D> = TrafficRouterProvider<any, D>;

export function createRouterRegistry<D>(providers: AnyRouterProvider<D>[], deps: D) {
  const byType = new Map(providers.map((p) => [p.type, p]));
  const instances = new Map<string, TrafficRouter>();

  return {
    types: () => [...byType.keys()],
    validate(target: TargetSpec): ConfigCheck<unknown> {
      const provider = byType.get(target.type);
      if (!provider) return { ok: false, problems: [{ path: 'type', message: `must be one of: ${[...byType.keys()].join(', ')}` }] };
      const check = provider.validateConfig(target.config);
      return check.ok ? check : { ok: false, problems: check.problems.map((p) => ({ ...p, path: `config.${p.path}` })) };
    },
    /** Where a valid target's config makes calls, each with its field (config.url…), for the network policy. */
    destinations(target: TargetSpec): ConfigDestination[] {
      const provider = byType.get(target.type);
      const check = provider?.validateConfig(target.config);
      if (!provider?.destinations || !check?.ok) return [];
      return provider.destinations(check.config).map((d) => ({ ...d, path: `config.${d.path}` }));
    },
    /** Whether this kind of router can take an environment's instances in and out of rotation one by one. */
    setsInstanceWeights(target: TargetSpec): boolean {
      return byType.get(target.type)?.setsInstanceWeights === true;
    },
    /**
     * Of an environment's instances, those the router says it does not know; none when it cannot
     * tell (a router without the check, or one not reachable now: the weights are checked when set).
     */
    async unknownInstances(target: TargetSpec, names: readonly string[]): Promise<Array<{ name: string; reason: string }>> {
      const provider = byType.get(target.type);
      if (!provider?.validateConfig(target.config).ok) return [];
      const router = this.routerFor(target);
      if (!router.unknownInstances) return [];
      return router.unknownInstances(names).catch(() => []);
    },
    /** One router per distinct target, reused so that connections (HAProxy sockets) are kept. */
    routerFor(target: TargetSpec): TrafficRouter {
      const key = JSON.stringify(target);
      let router = instances.get(key);
      if (!router) {
        const provider = byType.get(target.type);
        if (!provider) throw new Error(`no traffic router of type "${target.type}" is registered here`);
        const check = provider.validateConfig(target.config);
        if (!check.ok) throw new Error(`invalid ${target.type} router config: ${check.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
        router = provider.create(check.config, deps);
        instances.set(key, router);
      }
      return router;
    },
    async close() {
      await Promise.allSettled([...instances.values()].map((r) => r.close()));
      instances.clear();
    },
  };
}
export type RouterRegistry = ReturnType<typeof createRouterRegistry>;
