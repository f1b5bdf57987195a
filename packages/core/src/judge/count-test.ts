import { addBlock, NO_BLOCKS, temperedMixtureLogE, temperingFromBlocks, type DispersionSums } from './dispersion.ts';
import { addIntervalLogLr, mixtureLogE, type MixtureComponent } from './mixture.ts';

/** Requests (or a ratio's denominator) and events (errors, slow requests, numerator). */
export interface Counts {
  readonly total: number;
  readonly events: number;
}

/**
 * The over-dispersion allowance of a count test (dispersion.ts), plain data: blocks of
 * `blockSeconds` of the analysis clock, the one under way, the completed ones summed, and the
 * tempering of each mixture component they give.
 */
export interface DispersionState {
  readonly blockSeconds: number;
  /** Elapsed seconds when the test started counting (0, or the end of a latency warm-up). */
  readonly startedAt: number;
  /** Elapsed seconds at which the block under way ends (a multiple of blockSeconds). */
  readonly blockEnd: number;
  readonly block: { readonly canary: Counts; readonly baseline: Counts };
  readonly sums: DispersionSums;
  readonly tempering: readonly number[];
  /** The pass test's tempering (dispersion.ts passTempering); absent in a state stored before it, which then uses the component's own. */
  readonly passTempering?: number;
}

/**
 * The state of one count test, plain data (JSON-safe) so that the caller can persist it
 * between looks. `last` is the cumulative snapshot already consumed; `canary`/`baseline`
 * count what the test has used since it started. `logLr` is each mixture component's log
 * likelihood ratio as the Poisson model has it; with `dispersion` the e-value scales it by the
 * component's current tempering.
 */
export interface CountTestState {
  readonly logLr: readonly number[];
  /** Running maximum of the log e-value that decides (tempered with dispersion; 0 = no evidence). */
  readonly maxLogE: number;
  readonly canary: Counts;
  readonly baseline: Counts;
  readonly last: { readonly canary: Counts; readonly baseline: Counts };
  /** null (or absent, in a state stored before it existed): the Poisson test, no allowance. */
  readonly dispersion?: DispersionState | null;
}

const ZERO: Counts = { total: 0, events: 0 };

/** Where a test stands on the analysis clock, when it allows for over-dispersion. */
export interface DispersionClock {
  readonly elapsedSeconds: number;
  readonly blockSeconds: number;
}

export function startDispersion(mixture: readonly MixtureComponent[], clock: DispersionClock): DispersionState {
  return {
    blockSeconds: clock.blockSeconds,
    startedAt: clock.elapsedSeconds,
    blockEnd: (Math.floor(clock.elapsedSeconds / clock.blockSeconds) + 1) * clock.blockSeconds,
    block: { canary: ZERO, baseline: ZERO },
    sums: NO_BLOCKS,
    tempering: mixture.map(() => 1),
    passTempering: 1,
  };
}

/**
 * A test that starts counting from the cumulative snapshot `from` (zero by default), allowing for
 * over-dispersion from `clock` on when one is given.
 */
export function startCountTest(mixture: readonly MixtureComponent[], from = { canary: ZERO, baseline: ZERO }, clock?: DispersionClock): CountTestState {
  return { logLr: mixture.map(() => 0), maxLogE: 0, canary: ZERO, baseline: ZERO, last: from, dispersion: clock ? startDispersion(mixture, clock) : null };
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
 * - With dispersion, `elapsedSeconds` places the interval in its block (the analysis clock);
 *   the interval is counted in the block under way, which closes at the first look at or after
 *   its end. The tempering changes when a block closes and, before the first one has, when an
 *   interval brings events (the prior's strength depends on the traffic), so a look that brings
 *   nothing never moves the e-value.
 */
export function advanceCountTest(
  state: CountTestState,
  canary: Counts,
  baseline: Counts,
  tolerance: number,
  mixture: readonly MixtureComponent[],
  elapsedSeconds?: number,
): CountTestState {
  const dc = minus(canary, state.last.canary);
  const db = minus(baseline, state.last.baseline);
  if (dc.total < 0 || dc.events < 0 || db.total < 0 || db.events < 0) return { ...state, last: { canary, baseline } };
  if ((dc.events > 0 && dc.total <= 0) || (db.events > 0 && db.total <= 0)) return state;
  const logLr = [...state.logLr];
  addIntervalLogLr(logLr, mixture, tolerance, dc.total, dc.events, db.total, db.events);
  const dispersion = state.dispersion && elapsedSeconds !== undefined ? advanceDispersion(state.dispersion, dc, db, elapsedSeconds, tolerance, mixture) : null;
  const logE = dispersion ? temperedMixtureLogE(logLr, dispersion.tempering, mixture) : mixtureLogE(logLr, mixture);
  return {
    logLr,
    maxLogE: Math.max(state.maxLogE, logE),
    canary: plus(state.canary, dc),
    baseline: plus(state.baseline, db),
    last: { canary, baseline },
    dispersion: dispersion ?? state.dispersion ?? null,
  };
}

function advanceDispersion(
  d: DispersionState,
  dc: Counts,
  db: Counts,
  elapsedSeconds: number,
  tolerance: number,
  mixture: readonly MixtureComponent[],
): DispersionState {
  let block = { canary: plus(d.block.canary, dc), baseline: plus(d.block.baseline, db) };
  let { sums, blockEnd, tempering, passTempering } = d;
  if (elapsedSeconds >= blockEnd) {
    sums = addBlock(sums, block.canary.total, block.canary.events, block.baseline.total, block.baseline.events);
    block = { canary: ZERO, baseline: ZERO };
    blockEnd = (Math.floor(elapsedSeconds / d.blockSeconds) + 1) * d.blockSeconds;
    ({ tempering, pass: passTempering } = temperingFromBlocks(sums, null, tolerance, mixture));
  } else if (sums.blocks === 0 && dc.events + db.events > 0 && elapsedSeconds > d.startedAt) {
    ({ tempering, pass: passTempering } = temperingFromBlocks(sums, { block, fraction: (elapsedSeconds - d.startedAt) / d.blockSeconds }, tolerance, mixture));
  }
  return { ...d, block, sums, blockEnd, tempering, passTempering };
}
