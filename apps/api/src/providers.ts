import {
  builtInDeployerProviders,
  createDeployerRegistry,
  createMetricRegistry,
  createRouterRegistry,
  haproxyRouterProvider,
  prometheusMetricProvider,
  pushedMetricProvider,
  recordingRouterProvider,
  webhookRouterProvider,
  type CommandDeployerDeps,
  type Egress,
  type PushedMetricsReader,
  type RecordingSink,
} from '@glidepath/providers';

/**
 * The router types environments may name. The API only validates their config; the worker
 * drives them. The recording router exists only outside production.
 */
export function createApiRouters(options: { production: boolean; egress: Egress }) {
  const real = [haproxyRouterProvider(), webhookRouterProvider()];
  return createRouterRegistry<{ recordingSink: RecordingSink; egress: Egress }>(options.production ? real : [...real, recordingRouterProvider()], {
    recordingSink: {
      record: async () => {
        throw new Error('the API never applies effects');
      },
    },
    egress: options.egress,
  });
}

/**
 * The deployers environments may name; the API only validates their config, against the same
 * host settings the worker runs them with (GLIDEPATH_DEPLOY_COMMAND_DIRS).
 */
export function createApiDeployers(egress: Egress, commandDirs: string[]) {
  return createDeployerRegistry<CommandDeployerDeps>(builtInDeployerProviders(), {
    egress,
    commandHost: { executableDirs: commandDirs, stateDir: '' },
  });
}

/** The metrics sources environments may name; the API only validates their config. */
export function createApiMetricSources(egress: Egress) {
  return createMetricRegistry<{ pushedMetrics: PushedMetricsReader; egress: Egress }>([prometheusMetricProvider(), pushedMetricProvider()], {
    pushedMetrics: {
      sum: async () => {
        throw new Error('the API never measures');
      },
    },
    egress,
  });
}
