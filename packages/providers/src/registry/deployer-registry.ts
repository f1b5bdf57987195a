import type { ConfigCheck, ConfigDestination, Deployer, DeployerProvider } from '@glidepath/core';
import { commandDeployerProvider, type CommandDeployerDeps } from '../deployers/command.deployer.ts';
import { noneDeployerProvider } from '../deployers/none.deployer.ts';
import { webhookDeployerProvider } from '../deployers/webhook.deployer.ts';
import type { TargetSpec } from './router-registry.ts';

// Each provider has its own config type; the registry only passes back what that provider validated.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDeployerProvider<D> = DeployerProvider<any, D>;

/** The deployers Glidepath ships: none (CI deploys), a signed webhook, a command on the worker's host. */
export function builtInDeployerProviders(): AnyDeployerProvider<CommandDeployerDeps>[] {
  return [noneDeployerProvider(), webhookDeployerProvider(), commandDeployerProvider()];
}

/** Maps a deployer type to its provider, like the router registry; adding one never edits core. */
export function createDeployerRegistry<D>(providers: AnyDeployerProvider<D>[], deps: D) {
  const byType = new Map(providers.map((p) => [p.type, p]));
  const instances = new Map<string, Deployer>();

  const check = (spec: TargetSpec): ConfigCheck<unknown> & { provider?: AnyDeployerProvider<D> } => {
    const provider = byType.get(spec.type);
    if (!provider) return { ok: false, problems: [{ path: 'type', message: `must be one of: ${[...byType.keys()].join(', ')}` }] };
    const checked = provider.validateConfig(spec.config);
    if (!checked.ok) return { ok: false, problems: checked.problems.map((p) => ({ ...p, path: `config.${p.path}` })) };
    // What this host allows (a command's directory) is part of registration too.
    const refused = provider.permits?.(checked.config, deps) ?? [];
    if (refused.length) return { ok: false, problems: refused.map((p) => ({ ...p, path: `config.${p.path}` })) };
    return { ...checked, provider };
  };

  return {
    types: () => [...byType.keys()],
    validate(spec: TargetSpec): ConfigCheck<unknown> {
      const result = check(spec);
      return result.ok ? { ok: true, config: result.config } : result;
    },
    /** Where a valid deployer's config makes calls, each with its field (config.url…), for the network policy. */
    destinations(spec: TargetSpec): ConfigDestination[] {
      const result = check(spec);
      if (!result.ok || !result.provider?.destinations) return [];
      return result.provider.destinations(result.config).map((d) => ({ ...d, path: `config.${d.path}` }));
    },
    /** One deployer per distinct spec, reused. */
    deployerFor(spec: TargetSpec): Deployer {
      const key = JSON.stringify(spec);
      let deployer = instances.get(key);
      if (!deployer) {
        const result = check(spec);
        if (!result.ok) throw new Error(`invalid ${spec.type} deployer config: ${result.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
        deployer = result.provider!.create(result.config, deps);
        instances.set(key, deployer);
      }
      return deployer;
    },
    async close() {
      await Promise.allSettled([...instances.values()].map((d) => d.close()));
      instances.clear();
    },
  };
}
export type DeployerRegistry = ReturnType<typeof createDeployerRegistry>;
