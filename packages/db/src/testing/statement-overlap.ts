import pg from 'pg';

/** pg's own words when a query is sent on a connection that is still busy (a deprecation now, an error from pg 9). */
export const PG_OVERLAP_WARNING = 'when the client is already executing a query';

export interface OverlapWatch {
  /** The statements sent while their connection was still running another one, and pg's warnings about it. */
  overlaps(): string[];
  stop(): void;
}

/**
 * Records every statement sent on a pg connection that is still executing another one, in this
 * process: stricter than pg's warning (which speaks once, and only from the third statement in
 * the queue on). Prisma and Glidepath's own reads share one pg module, so both are seen.
 */
export function watchStatementOverlaps(): OverlapWatch {
  const found: string[] = [];
  type Internals = { _activeQuery?: unknown; _queryQueue?: unknown[] };
  const original = pg.Client.prototype.query;
  const patched = function (this: pg.Client & Internals, ...args: unknown[]) {
    if (this._activeQuery || (this._queryQueue?.length ?? 0) > 0) {
      const first = args[0] as string | { text?: string } | undefined;
      found.push(`overlapping statement: ${(typeof first === 'string' ? first : (first?.text ?? '?')).slice(0, 160)}`);
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  pg.Client.prototype.query = patched as typeof original;
  const onWarning = (warning: Error) => {
    if (warning.message.includes(PG_OVERLAP_WARNING)) found.push(`pg warning: ${warning.message}`);
  };
  process.on('warning', onWarning);
  return {
    overlaps: () => [...found],
    stop() {
      if (pg.Client.prototype.query === (patched as typeof original)) pg.Client.prototype.query = original;
      process.off('warning', onWarning);
    },
  };
}
