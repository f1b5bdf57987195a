import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, Prisma } from './generated/prisma/client.ts';

export { PrismaClient, Prisma };
export type Db = PrismaClient | Prisma.TransactionClient;

export interface PoolOptions {
  /** Fail a statement that waits longer than this for a lock, instead of hanging a job (session setting). */
  lockTimeoutMs?: number;
}

export function createPrismaClient(databaseUrl: string, poolSize = 10, options: PoolOptions = {}): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize, lock_timeout: options.lockTimeoutMs }) });
}
