export * from './registry/router-registry.ts';
export * from './registry/check-config.ts';
export * from './recording/recording.traffic-router.ts';
