import type { Histogram, MetricProvider, MetricProviderFactory, SideMeasurement } from '@glidepath/core';
import { Type } from 'typebox';
import type { Egress } from '../network/egress.ts';
import { configChecker } from '../registry/check-config.ts';

/**
 * PromQL templates. Placeholders: {{service}}, {{environment}}, {{window}} (e.g. "95s") and
 * {{version}}, which becomes `version="1.2.0"` for the canary and `version!="1.2.0"` for the
 * baseline: the baseline is the rest of the environment's traffic over the same window.
 */
export const DEFAULT_QUERIES = {
  requests: 'sum(increase(http_requests_total{service="{{service}}",environment="{{environment}}",{{version}}}[{{window}}]))',
  errors: 'sum(increase(http_requests_total{service="{{service}}",environment="{{environment}}",{{version}},code=~"5.."}[{{window}}]))',
  latencyBuckets: 'sum by (le) (increase(http_request_duration_seconds_bucket{service="{{service}}",environment="{{environment}}",{{version}}}[{{window}}]))',
};

const PrometheusConfig = Type.Object(
  {
    url: Type.String({ pattern: '^https?://\\S+$' }),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
    queries: Type.Optional(
      Type.Object(
        {
          requests: Type.Optional(Type.String({ minLength: 1 })),
          errors: Type.Optional(Type.String({ minLength: 1 })),
          /** Must return one series per `le` label, in seconds as Prometheus histograms are; empty to skip latency. */
          latencyBuckets: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
type PrometheusConfig = { url: string; timeoutMs?: number; queries?: Partial<typeof DEFAULT_QUERIES> };

interface PromVectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export function prometheusMetricProvider(): MetricProviderFactory<PrometheusConfig, { egress: Egress }> {
  return {
    type: 'prometheus',
    validateConfig: configChecker(PrometheusConfig),
    destinations: (config) => [{ path: 'url', target: { kind: 'url', url: config.url } }],
    create(config, { egress }): MetricProvider {
      const queries = { ...DEFAULT_QUERIES, ...config.queries };
      // fetch refuses URLs with credentials: https://user:pass@prom/ becomes basic auth, and the
      // URL that errors and evidence name carries none.
      const parsed = new URL(config.url);
      const authorization =
        parsed.username || parsed.password
          ? `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`
          : undefined;
      parsed.username = '';
      parsed.password = '';
      const base = parsed.toString().replace(/\/$/, '');

      async function instant(query: string, at: Date): Promise<PromVectorSample[]> {
        const url = `${base}/api/v1/query?${new URLSearchParams({ query, time: (at.getTime() / 1000).toFixed(3) })}`;
        const response = await egress.fetch(url, { signal: AbortSignal.timeout(config.timeoutMs ?? 5000), headers: authorization ? { authorization } : {} });
        const body = (await response.json().catch(() => null)) as {
          status?: string;
          error?: string;
          data?: { resultType: string; result: PromVectorSample[] };
        } | null;
        if (!response.ok || body?.status !== 'success' || !body.data)
          throw new Error(`Prometheus at ${base} refused ${query}: ${body?.error ?? response.status}`);
        return body.data.result;
      }

      const fill = (template: string, vars: Record<string, string>) => template.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => vars[key] ?? `{{${key}}}`);
      const scalar = (samples: PromVectorSample[]) => (samples[0] ? Math.round(Number(samples[0].value[1])) : null);

      async function side(vars: Record<string, string>, at: Date): Promise<SideMeasurement | null> {
        const [requests, errors, buckets] = await Promise.all([
          instant(fill(queries.requests, vars), at),
          instant(fill(queries.errors, vars), at),
          queries.latencyBuckets ? instant(fill(queries.latencyBuckets, vars), at) : Promise.resolve([]),
        ]);
        const total = scalar(requests);
        if (total === null) return null;
        return { requests: total, errors: scalar(errors) ?? 0, latency: toHistogram(buckets) };
      }

      return {
        type: 'prometheus',
        async measure(request) {
          // increase() needs two samples in the window: shorter than a few scrapes is "no data yet".
          const windowSeconds = Math.max(1, Math.round((request.to.getTime() - request.from.getTime()) / 1000));
          const common = { service: request.service, environment: request.environment, window: `${windowSeconds}s` };
          const escaped = request.canaryVersion.replace(/["\\]/g, '\\$&');
          const [canary, baseline] = await Promise.all([
            side({ ...common, version: `version="${escaped}"` }, request.to),
            side({ ...common, version: `version!="${escaped}"` }, request.to),
          ]);
          if (!canary || !baseline) return null;
          return { canary, baseline, source: { type: 'prometheus', url: base, window: common.window, at: request.to.toISOString() } };
        },
        close: async () => {},
      };
    },
  };
}

/** Prometheus `le` buckets (seconds, cumulative) to the judge's histogram (ms). */
function toHistogram(samples: PromVectorSample[]): Histogram | null {
  if (samples.length === 0) return null;
  const buckets = samples
    .map((s) => ({ le: s.metric.le === '+Inf' ? Infinity : Number(s.metric.le) * 1000, count: Math.round(Number(s.value[1])) }))
    .filter((b) => !Number.isNaN(b.le))
    .sort((a, b) => a.le - b.le);
  if (buckets.at(-1)?.le !== Infinity) return null;
  return { buckets };
}
