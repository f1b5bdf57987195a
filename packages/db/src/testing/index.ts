export * from './test-database.ts';
export * from './worker-process.ts';
export * from './tcp-proxy.ts';
export * from './statement-overlap.ts';
export * from './database-fingerprint.ts';
export * from './seed-history.ts';
