export * from './registry/router-registry.ts';
export * from './registry/check-config.ts';
export * from './recording/recording.traffic-router.ts';
export * from './registry/metric-registry.ts';
export * from './prometheus/prometheus.metric-provider.ts';
export * from './pushed/pushed.metric-provider.ts';
