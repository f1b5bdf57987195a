import type { Histogram } from '../judge/latency.ts';
import type { ConfigCheck, ConfigDestination } from './traffic-router.ts';

/** Cumulative counts of one side (canary or baseline) over the analysis window. */
export interface SideMeasurement {
  requests: number;
  errors: number;
  /** Latency in ms, cumulative Prometheus-style buckets; null when the source has none. */
  latency: Histogram | null;
}

export interface MeasureRequest {
  service: string;
  environment: string;
  environmentId: string;
  /** The canary is this version; the baseline is the rest of the environment's traffic. */
  canaryVersion: string;
  from: Date;
  to: Date;
}

/**
 * A source of canary-versus-baseline counts (Prometheus, pushed metrics). `null` means no data
 * yet: not enough evidence, never a failure. Errors (source down) throw and are retried.
 */
export interface MetricProvider {
  readonly type: string;
  measure(request: MeasureRequest): Promise<{ canary: SideMeasurement; baseline: SideMeasurement; source: unknown } | null>;
  close(): Promise<void>;
}

export interface MetricProviderFactory<C = unknown, D = unknown> {
  type: string;
  validateConfig(config: unknown): ConfigCheck<C>;
  /** Every place a valid config makes this source call; none when absent. */
  destinations?(config: C): ConfigDestination[];
  create(config: C, deps: D): MetricProvider;
}
