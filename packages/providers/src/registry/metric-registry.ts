import type { ConfigCheck, ConfigDestination, MetricProvider, MetricProviderFactory, MetricSourceContext } from '@glidepath/core';
import type { TargetSpec } from './router-registry.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMetricFactory<D> = MetricProviderFactory<any, D>;

/** Maps a metrics source type to its provider, like the router registry. */
export function createMetricRegistry<D>(factories: AnyMetricFactory<D>[], deps: D) {
  const byType = new Map(factories.map((f) => [f.type, f]));
  const instances = new Map<string, MetricProvider>();
  return {
    /** With the environment's router as context, a source that cannot work with it is refused too. */
    validate(spec: TargetSpec, context?: MetricSourceContext): ConfigCheck<unknown> {
      const factory = byType.get(spec.type);
      if (!factory) return { ok: false, problems: [{ path: 'type', message: `must be one of: ${[...byType.keys()].join(', ')}` }] };
      const check = factory.validateConfig(spec.config, context);
      return check.ok ? check : { ok: false, problems: check.problems.map((p) => ({ ...p, path: `config.${p.path}` })) };
    },
    /** Where a valid source's config makes calls, each with its field (config.url…), for the network policy. */
    destinations(spec: TargetSpec): ConfigDestination[] {
      const factory = byType.get(spec.type);
      const check = factory?.validateConfig(spec.config);
      if (!factory?.destinations || !check?.ok) return [];
      return factory.destinations(check.config).map((d) => ({ ...d, path: `config.${d.path}` }));
    },
    /** Whether a valid source ever reads latency; true when its type cannot tell. */
    readsLatency(spec: TargetSpec): boolean {
      const factory = byType.get(spec.type);
      const check = factory?.validateConfig(spec.config);
      return !factory?.readsLatency || !check?.ok || factory.readsLatency(check.config);
    },
    providerFor(spec: TargetSpec): MetricProvider {
      const key = JSON.stringify(spec);
      let provider = instances.get(key);
      if (!provider) {
        const factory = byType.get(spec.type);
        if (!factory) throw new Error(`no metrics source of type "${spec.type}" is registered here`);
        const check = factory.validateConfig(spec.config);
        if (!check.ok) throw new Error(`invalid ${spec.type} metrics config: ${check.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
        provider = factory.create(check.config, deps);
        instances.set(key, provider);
      }
      return provider;
    },
    async close() {
      await Promise.allSettled([...instances.values()].map((p) => p.close()));
      instances.clear();
    },
  };
}
export type MetricRegistry = ReturnType<typeof createMetricRegistry>;
