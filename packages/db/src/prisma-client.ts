import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient, Prisma } from './generated/prisma/client.ts';

export { PrismaClient, Prisma };
export type Db = PrismaClient | Prisma.TransactionClient;

export interface PoolOptions {
  /** Fail a statement that waits longer than this for a lock, instead of hanging a job (session setting). */
  lockTimeoutMs?: number;
}

/** The connections behind each client, for the reads that go to PostgreSQL without Prisma (see sqlPool). */
const pools = new WeakMap<PrismaClient, pg.Pool>();

/** A pg pool on its own, for a process that reads without Prisma (the read benchmark's baseline). */
export function createSqlPool(databaseUrl: string, poolSize = 10, options: PoolOptions = {}): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl, max: poolSize, lock_timeout: options.lockTimeoutMs });
}

export function createPrismaClient(databaseUrl: string, poolSize = 10, options: PoolOptions = {}): PrismaClient {
  const pool = createSqlPool(databaseUrl, poolSize, options);
  const prisma = new PrismaClient({ adapter: oneStatementAtATime(new PrismaPg(pool, { disposeExternalPool: true })) });
  pools.set(prisma, pool);
  return prisma;
}

/**
 * The pg pool a client created by createPrismaClient runs on. Hot reads (one statement that
 * builds the reply) use it directly: the same connections, the same limit, no second pool.
 */
export function sqlPool(prisma: PrismaClient): pg.Pool {
  const pool = pools.get(prisma);
  if (!pool) throw new Error('this PrismaClient was not made by createPrismaClient: it has no pg pool to share');
  return pool;
}

type AdapterFactory = PrismaPg;
type Adapter = Awaited<ReturnType<AdapterFactory['connect']>>;
type Transaction = Awaited<ReturnType<Adapter['startTransaction']>>;

/**
 * An interactive transaction holds one connection, and a connection runs one statement at a
 * time. Prisma resolves an `include` of several relations with parallel queries, which on that
 * one connection pile up in pg's queue ("Calling client.query() when the client is already
 * executing a query", an error from pg 9 on). Here each transaction's statements wait their
 * turn, so whatever Prisma plans, pg never sees a second query on a busy connection.
 */
function oneStatementAtATime(factory: AdapterFactory): AdapterFactory {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const startTransaction = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (isolationLevel) => inTurn(await startTransaction(isolationLevel));
    return adapter;
  };
  return factory;
}

function inTurn(tx: Transaction): Transaction {
  let last: Promise<unknown> = Promise.resolve();
  const after = <T>(run: () => Promise<T>): Promise<T> => {
    const result = last.then(run, run);
    last = result.catch(() => undefined);
    return result;
  };
  const { queryRaw, executeRaw, commit, rollback } = tx;
  // Own properties shadow the class's methods, so its savepoint helpers (this.executeRaw) queue too.
  Object.assign(tx, {
    queryRaw: (query: Parameters<Transaction['queryRaw']>[0]) => after(() => queryRaw.call(tx, query)),
    executeRaw: (query: Parameters<Transaction['executeRaw']>[0]) => after(() => executeRaw.call(tx, query)),
    // The connection goes back to the pool only after the statements queued before the end.
    commit: () => after(() => commit.call(tx)),
    rollback: () => after(() => rollback.call(tx)),
  });
  return tx;
}
