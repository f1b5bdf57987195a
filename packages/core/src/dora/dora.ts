/**
 * DORA figures from Glidepath's own records, per service and environment over a period:
 * - deployment frequency: releases that reached an outcome (succeeded, rolled back, failed) per day;
 * - lead time for changes: artifact registered → release succeeded (in that environment; a
 *   service's figure is its last environment's);
 * - change failure rate: rolled back or failed ÷ all outcomes (aborted releases deployed nothing
 *   people kept or lost: they count in neither);
 * - time to restore: a failed or rolled-back release → the next succeeded one in the same environment;
 * - daily: per UTC calendar day touched by the period.
 * Pure: the API loads the records.
 */

export interface DoraRecord {
  service: string;
  environment: string;
  /** The environment's place in the promotion path: the highest is the last. */
  position: number;
  outcome: 'succeeded' | 'rolled-back' | 'failed';
  /** When the outcome happened (ms). */
  at: number;
  /** When the artifact was registered (ms). */
  artifactRegisteredAt: number;
}

export interface DurationFigures {
  count: number;
  medianSeconds: number | null;
  meanSeconds: number | null;
}

export interface DoraFigures {
  service: string;
  environment: string;
  lastEnvironment: boolean;
  deployments: number;
  successes: number;
  failures: number;
  deploymentsPerDay: number;
  changeFailureRate: number | null;
  leadTime: DurationFigures;
  timeToRestore: DurationFigures & { unrestored: number };
  /** One entry per UTC day of the period: deployments and failures that day. */
  daily: Array<{ day: string; deployments: number; failures: number }>;
}

const DAY_MS = 86_400_000;

function durations(values: number[]): DurationFigures {
  if (values.length === 0) return { count: 0, medianSeconds: null, meanSeconds: null };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { count: values.length, medianSeconds: median / 1000, meanSeconds: values.reduce((a, b) => a + b, 0) / values.length / 1000 };
}

export function computeDora(records: readonly DoraRecord[], period: { from: number; to: number }): DoraFigures[] {
  const days = Math.max(1, Math.ceil((period.to - period.from) / DAY_MS));
  const lastPosition = new Map<string, number>();
  for (const r of records) lastPosition.set(r.service, Math.max(lastPosition.get(r.service) ?? -Infinity, r.position));
  const groups = new Map<string, DoraRecord[]>();
  for (const r of records) {
    const key = JSON.stringify([r.service, r.environment]);
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  const figures: DoraFigures[] = [];
  for (const [key, all] of groups) {
    const [service, environment] = JSON.parse(key) as [string, string];
    const sorted = [...all].sort((a, b) => a.at - b.at);
    const inPeriod = sorted.filter((r) => r.at >= period.from && r.at < period.to);
    const successes = inPeriod.filter((r) => r.outcome === 'succeeded');
    const failures = inPeriod.filter((r) => r.outcome !== 'succeeded');
    // Restored by the next success after the failure, even one after the period's end.
    const restores: number[] = [];
    let unrestored = 0;
    for (const failure of failures) {
      const next = sorted.find((r) => r.outcome === 'succeeded' && r.at > failure.at);
      if (next) restores.push(next.at - failure.at);
      else unrestored += 1;
    }
    // Calendar days (UTC), so that a bar's date is the day its releases ended.
    const firstDay = Math.floor(period.from / DAY_MS) * DAY_MS;
    const daily = Array.from({ length: Math.ceil((period.to - firstDay) / DAY_MS) }, (_, i) => {
      const start = firstDay + i * DAY_MS;
      const that = inPeriod.filter((r) => r.at >= start && r.at < start + DAY_MS);
      return { day: new Date(start).toISOString().slice(0, 10), deployments: that.length, failures: that.filter((r) => r.outcome !== 'succeeded').length };
    });
    figures.push({
      service,
      environment,
      lastEnvironment: all[0]!.position === lastPosition.get(service),
      deployments: inPeriod.length,
      successes: successes.length,
      failures: failures.length,
      deploymentsPerDay: inPeriod.length / days,
      changeFailureRate: inPeriod.length ? failures.length / inPeriod.length : null,
      // Never below zero: the API's and the worker's clocks may differ by a little.
      leadTime: durations(successes.map((r) => Math.max(0, r.at - r.artifactRegisteredAt))),
      timeToRestore: { ...durations(restores), unrestored },
      daily,
    });
  }
  return figures.sort(
    (a, b) => a.service.localeCompare(b.service) || Number(a.lastEnvironment) - Number(b.lastEnvironment) || a.environment.localeCompare(b.environment),
  );
}
