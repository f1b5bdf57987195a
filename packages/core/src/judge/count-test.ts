import { addIntervalLogLr, mixtureLogE, type MixtureComponent } from './mixture.ts';

/** Requests (or a ratio's denominator) and events (errors, slow requests, numerator). */
export interface Counts {
  readonly total: number;
  readonly events: number;
}

/**
 * The state of one count test, plain data (JSON-safe) so that the caller can persist it
 * between looks. `last` is the cumulative snapshot already consumed; `canary`/`baseline`
 * count what the test has used since it started.
 */
export interface CountTestState {
  readonly logLr: readonly number[];
  /** Running maximum of the mixture's log e-value (0 = no evidence; the e-value starts at 1). */
  readonly maxLogE: number;
  readonly canary: Counts;
  readonly baseline: Counts;
  readonly last: { readonly canary: Counts; readonly baseline: Counts };
}

const ZERO: Counts = { total: 0, events: 0 };

/** A test that starts counting from the cumulative snapshot `from` (zero by default). */
export function startCountTest(mixture: readonly MixtureComponent[], from = { canary: ZERO, baseline: ZERO }): CountTestState {
  return { logLr: mixture.map(() => 0), maxLogE: 0, canary: ZERO, baseline: ZERO, last: from };
}

const minus = (a: Counts, b: Counts): Counts => ({ total: a.total - b.total, events: a.events - b.events });
const plus = (a: Counts, b: Counts): Counts => ({ total: a.total + b.total, events: a.events + b.events });

/**
 * Folds the interval since the last consumed snapshot into the test. Pure: returns a new state.
 * - A counter that went down (a scrape target restarted) re-bases the snapshot: that interval
 *   is skipped, nothing is counted twice.
 * - An interval with events on a side that served no requests (counters scraped at slightly
 *   different moments) is not a valid observation: it is held back and merged into the next.
 *   A side with no requests and no events is fine: the interval then carries no information.
 */
export function advanceCountTest(
  state: CountTestState,
  canary: Counts,
  baseline: Counts,
  tolerance: number,
  mixture: readonly MixtureComponent[],
): CountTestState {
  const dc = minus(canary, state.last.canary);
  const db = minus(baseline, state.last.baseline);
  if (dc.total < 0 || dc.events < 0 || db.total < 0 || db.events < 0) return { ...state, last: { canary, baseline } };
  if ((dc.events > 0 && dc.total <= 0) || (db.events > 0 && db.total <= 0)) return state;
  const logLr = [...state.logLr];
  addIntervalLogLr(logLr, mixture, tolerance, dc.total, dc.events, db.total, db.events);
  return {
    logLr,
    maxLogE: Math.max(state.maxLogE, mixtureLogE(logLr, mixture)),
    canary: plus(state.canary, dc),
    baseline: plus(state.baseline, db),
    last: { canary, baseline },
  };
}
