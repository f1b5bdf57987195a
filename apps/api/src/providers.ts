import {
  createMetricRegistry,
  createRouterRegistry,
  haproxyRouterProvider,
  prometheusMetricProvider,
  pushedMetricProvider,
  recordingRouterProvider,
  webhookRouterProvider,
} from '@glidepath/providers';

/**
 * The router types environments may name. The API only validates their config; the worker
 * drives them. The recording router exists only outside production.
 */
export function createApiRouters(options: { production: boolean }) {
  const real = [haproxyRouterProvider(), webhookRouterProvider()];
  return createRouterRegistry(options.production ? real : [...real, recordingRouterProvider()], {
    recordingSink: {
      record: async () => {
        throw new Error('the API never applies effects');
      },
    },
  });
}

/** The metrics sources environments may name; the API only validates their config. */
export function createApiMetricSources() {
  return createMetricRegistry([prometheusMetricProvider(), pushedMetricProvider()], {
    pushedMetrics: {
      sum: async () => {
        throw new Error('the API never measures');
      },
    },
  });
}
