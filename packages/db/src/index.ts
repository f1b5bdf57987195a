export * from './prisma-client.ts';
export * from './migrations/migrator.ts';
export * from './migrations/migrations-dir.ts';
export * from './audit/audit-log.ts';
export * from './audit/audited-transaction.ts';
export * from './events/event-bus.ts';
export * from './queue/job-queue.ts';
export * from './auth/api-tokens.ts';
