export * from './test-database.ts';
export * from './worker-process.ts';
