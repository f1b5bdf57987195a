import type { Histogram } from '../judge/latency.ts';
import type { ConfigCheck, ConfigDestination } from './traffic-router.ts';

/** Cumulative counts of one side (canary or baseline) over the analysis window. */
export interface SideMeasurement {
  requests: number;
  errors: number;
  /** Latency in ms, cumulative Prometheus-style buckets; null when the source has none. */
  latency: Histogram | null;
  /** Per ratio metric of the step (by name): cumulative numerator and denominator counts over the window. */
  ratios?: Record<string, RatioCounts>;
}

/** A ratio's counts, e.g. declined payments / payments, or correct predictions / labelled predictions. */
export interface RatioCounts {
  numerator: number;
  denominator: number;
}

export interface MeasureRequest {
  service: string;
  environment: string;
  environmentId: string;
  /** The canary is this version; the baseline is the rest of the environment's traffic. */
  canaryVersion: string;
  /** The canary artifact's digest (sha256:…) and free metadata, for queries that select on them. */
  canaryDigest?: string;
  canaryMetadata?: Record<string, unknown> | null;
  /** The environment's traffic router ({ type, config }): a source may read the router's own metrics. */
  target?: { type: string; config: unknown };
  /** The ratio metrics the step judges: each side's `ratios` must carry every one, or the look has no data. */
  ratios?: readonly string[];
  from: Date;
  to: Date;
}

/** Canary and baseline over the same window, with where they were read (stored as evidence). */
export interface Measurement {
  canary: SideMeasurement;
  baseline: SideMeasurement;
  source: unknown;
}

/**
 * Nothing usable this look, and why (no series yet, several where one is expected, NaN, a
 * counter that went down, a source that timed out). Never a pass or a fail: the judge is not
 * fed, so its state stays as it was.
 */
export interface NoData {
  noData: string;
  source?: unknown;
}

export type MeasureResult = Measurement | NoData;

export function isNoData(result: MeasureResult): result is NoData {
  return 'noData' in result;
}

/**
 * A source of canary-versus-baseline counts (Prometheus, pushed metrics). `null` or `NoData`
 * means no data this look: not enough evidence, never a failure. A source that does not answer
 * (down, timed out, refusing the query) is no data with why; only a call the network policy
 * refuses throws, and the analysis fails with that reason.
 */
export interface MetricProvider {
  readonly type: string;
  measure(request: MeasureRequest): Promise<MeasureResult | null>;
  close(): Promise<void>;
}

/** What registration knows beside the source's own config: the environment's router. */
export interface MetricSourceContext {
  target?: { type: string; config: unknown };
}

export interface MetricProviderFactory<C = unknown, D = unknown> {
  type: string;
  /** The context, when given, lets a source refuse a config that cannot work with this environment's router. */
  validateConfig(config: unknown, context?: MetricSourceContext): ConfigCheck<C>;
  /** Every place a valid config makes this source call; none when absent. */
  destinations?(config: C): ConfigDestination[];
  /** Whether a valid config ever reads latency: a plan judging latency there could never conclude. */
  readsLatency?(config: C): boolean;
  /** Whether a valid config can measure the ratio metric so named (absent: never); a plan judging one it cannot would never conclude. */
  measuresRatio?(config: C, name: string): boolean;
  create(config: C, deps: D): MetricProvider;
}
