export interface ServerWeights {
  stable: number;
  canary: number;
}

/**
 * Absolute HAProxy weights for a canary percentage: canary w, stable 100 − w. HAProxy's
 * `N%` form is relative to the server's initial weight, which is 0 for a canary declared
 * idle, so it cannot express a shift from there.
 *
 * HAProxy weights are integers. Plans may ask for a fractional percentage, which is rounded
 * to the nearest whole one, but never to 0 or 100 when the request was strictly between:
 * "a little canary traffic" must not become "none", nor "nearly all" become "all".
 */
export function serverWeightsFor(canaryPercent: number): ServerWeights {
  if (!Number.isFinite(canaryPercent) || canaryPercent < 0 || canaryPercent > 100) {
    throw new RangeError(`canary weight must be a number from 0 to 100, got ${canaryPercent}`);
  }
  const canary = Math.min(canaryPercent < 100 ? 99 : 100, Math.max(canaryPercent > 0 ? 1 : 0, Math.round(canaryPercent)));
  return { stable: 100 - canary, canary };
}

/** `get weight` answers `"5 (initial 0)"`; anything else is HAProxy's error text. */
export function parseGetWeightReply(reply: string): { current: number; initial: number } | null {
  const match = /^(\d+) \(initial (\d+)\)\s*$/.exec(reply);
  return match ? { current: Number(match[1]), initial: Number(match[2]) } : null;
}
