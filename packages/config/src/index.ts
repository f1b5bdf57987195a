export * from './config-error.ts';
export * from './variables.ts';
export * from './load-settings.ts';
export * from './secrets-key.ts';
export * from './egress.ts';
export { isLoopbackHost } from './oidc-values.ts';
