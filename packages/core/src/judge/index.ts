export * from './types.ts';
export * from './mixture.ts';
export * from './count-test.ts';
export * from './dispersion.ts';
export * from './expected-detection.ts';
export * from './latency.ts';
export * from './judge.ts';
