/**
 * Which dependency an error says is away, if any: PostgreSQL restarting or unreachable, Redis
 * down. Such a request is answered 503 with Retry-After (the client may try again), never 500.
 */
export function unavailableDependency(error: unknown): 'database' | 'redis' | undefined {
  for (let e = error as ErrorLike | undefined, depth = 0; e && depth < 5; e = e.cause as ErrorLike | undefined, depth++) {
    if (typeof e.code === 'string' && PRISMA_UNREACHABLE.has(e.code)) return 'database';
    const adapterCause = (e.meta as { driverAdapterError?: { cause?: { kind?: string } } } | undefined)?.driverAdapterError?.cause?.kind;
    if (adapterCause && ADAPTER_UNREACHABLE.has(adapterCause)) return 'database';
    if (e.name === 'PrismaClientInitializationError') return 'database';
    // PostgreSQL's own codes: class 08 (connection exception), 57P01-57P03 (shutting down, starting up).
    if (typeof e.code === 'string' && /^(08\w{3}|57P0[123])$/.test(e.code)) return 'database';
    if (e.name === 'MaxRetriesPerRequestError' || (typeof e.message === 'string' && REDIS_AWAY.some((m) => e!.message!.includes(m)))) return 'redis';
    if (typeof e.message === 'string' && PG_AWAY.some((m) => e!.message!.includes(m))) return 'database';
  }
  return undefined;
}

interface ErrorLike {
  name?: string;
  code?: unknown;
  message?: string;
  meta?: unknown;
  cause?: unknown;
}

/** Can't reach, timed out, server closed the connection, pool timeout. */
const PRISMA_UNREACHABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const ADAPTER_UNREACHABLE = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** node-postgres' words for a connection lost or refused. */
const PG_AWAY = ['Connection terminated unexpectedly', 'Connection terminated due to connection timeout', 'connect ECONNREFUSED', 'read ECONNRESET'];
/** ioredis' words when it cannot send a command. */
const REDIS_AWAY = ["Stream isn't writeable", 'Connection is closed', 'Reached the max retries per request limit'];
