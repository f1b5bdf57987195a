import {
  readCount,
  readLatencyBuckets,
  type ConfigCheck,
  type ConfigProblem,
  type LabelledValue,
  type MeasureRequest,
  type MeasureResult,
  type MetricProvider,
  type MetricProviderFactory,
  type MetricSourceContext,
  type SideMeasurement,
} from '@glidepath/core';
import { Type, type Static } from 'typebox';
import { isEgressDenied } from '../network/egress-denied.ts';
import type { Egress } from '../network/egress.ts';
import { configChecker } from '../registry/check-config.ts';
import { haproxyNames, haproxyPresetQueries } from './haproxy-preset.ts';
import { parseMatchers, parseQueryTemplate, renderQuery, type QueryTemplate, type TemplateValues } from './promql-template.ts';

/**
 * PromQL templates; placeholders in promql-template.ts. {{version}} alone in a selector becomes
 * `version="1.2.0"` for the canary and `version!="1.2.0"` for the baseline (the label is
 * `versionLabel`): the baseline is the rest of the environment's traffic over the same window.
 */
export const DEFAULT_QUERIES = {
  requests: 'sum(increase(http_requests_total{service="{{service}}",environment="{{environment}}",{{version}}}[{{window}}]))',
  errors: 'sum(increase(http_requests_total{service="{{service}}",environment="{{environment}}",{{version}},code=~"5.."}[{{window}}]))',
  latencyBuckets: 'sum by (le) (increase(http_request_duration_seconds_bucket{service="{{service}}",environment="{{environment}}",{{version}}}[{{window}}]))',
};

const PLACEHOLDERS =
  'Placeholders: {{service}}, {{environment}}, {{window}}; the canary\'s {{version}}, {{digest}}, {{digestShort}}, {{metadata.<key>}} as a label value written for the canary (label="{{version}}": the baseline query negates that matcher); {{track}}; with an HAProxy router {{backend}} and {{server}} (canaryServer / stableServer). {{version}} alone in a selector is versionLabel="…".';
const Query = (what: string) => Type.String({ minLength: 1, maxLength: 8000, description: `${what}. ${PLACEHOLDERS}` });
const LabelValue = Type.String({ minLength: 1, maxLength: 256 });

const PrometheusConfig = Type.Object(
  {
    url: Type.String({ pattern: '^https?://\\S+$', description: "Prometheus' base URL; user:password@ in it becomes basic authentication" }),
    timeoutMs: Type.Optional(
      Type.Integer({ minimum: 100, maximum: 60_000, description: 'per query (default 5000); a source slower than this is "no data" for that look, with why' }),
    ),
    preset: Type.Optional(
      Type.Literal('haproxy', {
        description:
          "haproxy: no instrumentation needed. Canary against stable from HAProxy's own exporter as Prometheus scrapes it: per server of the environment's HAProxy router (its backend, canaryServer and stableServer), requests = responses + response errors + connection errors, errors = 5xx + response errors + connection errors. HAProxy exports no latency histogram, so latency is not read unless queries.latencyBuckets is given.",
      }),
    ),
    matchers: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        description: 'with preset haproxy: label matchers added to each of its selectors, e.g. job="haproxy-prod" when Prometheus scrapes several HAProxies',
      }),
    ),
    versionLabel: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        maxLength: 128,
        description: 'the label a bare {{version}} matcher selects on (default version); or write app_version="{{version}}" in the queries',
      }),
    ),
    tracks: Type.Optional(
      Type.Object(
        { canary: Type.Optional(LabelValue), baseline: Type.Optional(LabelValue) },
        { additionalProperties: false, description: 'what {{track}} becomes on each side (default canary and stable), for metrics labelled track="canary"' },
      ),
    ),
    queries: Type.Optional(
      Type.Object(
        {
          requests: Type.Optional(Query('requests of one side over the window: one series')),
          errors: Type.Optional(Query('errors of one side over the window: one series')),
          latencyBuckets: Type.Optional(
            Type.String({
              maxLength: 8000,
              description: `latency buckets of one side: one series per le, in seconds as Prometheus histograms are; empty to read no latency. ${PLACEHOLDERS}`,
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    ratios: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            numerator: Query("the ratio's numerator of one side over the window (the counted events, e.g. declined payments): one series"),
            denominator: Query("the ratio's denominator of one side over the window (e.g. payments): one series"),
          },
          { additionalProperties: false },
        ),
        {
          maxProperties: 10,
          description:
            "per ratio metric a plan judges (by the metric's name, at most 64 characters): its numerator and denominator queries, templated like the others; the direction is the plan's",
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type PrometheusConfig = Static<typeof PrometheusConfig>;

type QueryName = keyof typeof DEFAULT_QUERIES;
const QUERY_NAMES: QueryName[] = ['requests', 'errors', 'latencyBuckets'];

/** The templates a config runs: the preset's or the defaults, each overridden by queries.<name>. */
function effectiveQueries(config: PrometheusConfig): Record<QueryName, string> {
  const base = config.preset === 'haproxy' ? haproxyPresetQueries(config.matchers) : DEFAULT_QUERIES;
  return { ...base, ...config.queries };
}

/** Whether a config has queries for the ratio metric so named. */
export function prometheusMeasuresRatio(config: unknown, name: string): boolean {
  const ratios = (config as Partial<PrometheusConfig> | null)?.ratios;
  return !!ratios && Object.hasOwn(ratios, name);
}

/** Whether a config ever reads latency (an empty latencyBuckets, or the HAProxy preset without one, never does). */
export function prometheusReadsLatency(config: unknown): boolean {
  const c = config as Partial<PrometheusConfig> | null;
  const latency = c?.queries?.latencyBuckets;
  return latency === undefined ? c?.preset !== 'haproxy' : latency !== '';
}

const checkSchema = configChecker(PrometheusConfig);

function validatePrometheusConfig(config: unknown, context?: MetricSourceContext): ConfigCheck<PrometheusConfig> {
  const check = checkSchema(config);
  if (!check.ok) return check;
  const c = check.config;
  const problems: ConfigProblem[] = [];
  if (c.matchers !== undefined) {
    if (c.preset !== 'haproxy') problems.push({ path: 'matchers', message: 'only with preset haproxy: write matchers into your own queries' });
    else {
      const parsed = parseMatchers(c.matchers);
      if (!parsed.ok) problems.push({ path: 'matchers', message: parsed.problem });
    }
  }
  for (const name of Object.keys(c.ratios ?? {}))
    if (name.length < 1 || name.length > 64) problems.push({ path: `ratios.${name}`, message: 'a metric name has 1 to 64 characters, as in plans' });
  if (c.tracks && (c.tracks.canary ?? 'canary') === (c.tracks.baseline ?? 'stable'))
    problems.push({ path: 'tracks.baseline', message: 'must differ from the canary track, or both sides read the same series' });
  if (problems.length) return { ok: false, problems };

  const queries = effectiveQueries(c);
  const needsHaproxy: string[] = [];
  for (const name of QUERY_NAMES) {
    if (!queries[name]) continue;
    const parsed = parseQueryTemplate(queries[name]);
    const path = c.queries?.[name] !== undefined ? `queries.${name}` : c.preset ? 'preset' : `queries.${name}`;
    if (!parsed.ok) problems.push({ path, message: parsed.problem });
    else if (parsed.template.placeholders.has('server') || parsed.template.placeholders.has('backend')) needsHaproxy.push(path);
  }
  for (const [name, ratio] of Object.entries(c.ratios ?? {}))
    for (const part of ['numerator', 'denominator'] as const) {
      const path = `ratios.${name}.${part}`;
      const parsed = parseQueryTemplate(ratio[part]);
      if (!parsed.ok) problems.push({ path, message: parsed.problem });
      else if (parsed.template.placeholders.has('server') || parsed.template.placeholders.has('backend')) needsHaproxy.push(path);
    }
  // The backend and server names come from the environment's router: checked where registration knows it.
  const target = context?.target;
  if (target && target.type !== 'haproxy')
    for (const path of new Set(needsHaproxy))
      problems.push({
        path,
        message: `reads HAProxy's per-server metrics ({{backend}}, {{server}}), which needs the environment's target to be haproxy (it is ${target.type})`,
      });
  // An environment with instances (a rolling plan replaces them) names no canary and stable server to read per server.
  if (target?.type === 'haproxy' && !haproxyNames(target))
    for (const path of new Set(needsHaproxy))
      problems.push({
        path,
        message:
          "reads HAProxy's per-server metrics of the router's canaryServer and stableServer, which this environment's router does not name (its instances are replaced in place): judge by version instead",
      });
  return problems.length ? { ok: false, problems } : check;
}

interface PromResult {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: unknown };
}

/** Why a fetch failed, in words for the evidence (no URL credentials: `base` has none). */
function describeFailure(error: unknown, base: string, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `Prometheus at ${base} did not answer within ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `Prometheus at ${base} could not be reached: ${cause ?? e?.message ?? String(error)}`;
}

/** A query's answer as labelled values, or why it is not one. */
function labelledValues(what: string, body: PromResult): LabelledValue[] | string {
  const { resultType, result } = body.data ?? {};
  if (resultType === 'scalar' && Array.isArray(result)) return [{ labels: {}, value: String(result[1]) }];
  if (resultType !== 'vector' || !Array.isArray(result)) return `${what} answers a ${resultType ?? 'nothing'}, not an instant vector`;
  const values: LabelledValue[] = [];
  for (const sample of result as Array<{ metric?: unknown; value?: unknown }>) {
    if (!Array.isArray(sample?.value) || typeof sample.metric !== 'object' || sample.metric === null)
      return `${what}: a sample Prometheus' API does not describe`;
    values.push({ labels: sample.metric as Record<string, string>, value: String(sample.value[1]) });
  }
  return values;
}

export function prometheusMetricProvider(): MetricProviderFactory<PrometheusConfig, { egress: Egress }> {
  return {
    type: 'prometheus',
    validateConfig: validatePrometheusConfig,
    destinations: (config) => [{ path: 'url', target: { kind: 'url', url: config.url } }],
    readsLatency: (config) => prometheusReadsLatency(config),
    measuresRatio: (config, name) => prometheusMeasuresRatio(config, name),
    create(config, { egress }): MetricProvider {
      const templates = {} as Record<QueryName, QueryTemplate | null>;
      for (const [name, text] of Object.entries(effectiveQueries(config)) as Array<[QueryName, string]>) {
        const parsed = text ? parseQueryTemplate(text) : null;
        if (parsed && !parsed.ok) throw new Error(`invalid prometheus query ${name}: ${parsed.problem}`); // validateConfig refused it already
        templates[name] = parsed?.template ?? null;
      }
      const ratioTemplates = new Map<string, { numerator: QueryTemplate; denominator: QueryTemplate }>();
      for (const [name, ratio] of Object.entries(config.ratios ?? {})) {
        const numerator = parseQueryTemplate(ratio.numerator);
        const denominator = parseQueryTemplate(ratio.denominator);
        if (!numerator.ok || !denominator.ok) throw new Error(`invalid prometheus ratio query ${name}`); // validateConfig refused it already
        ratioTemplates.set(name, { numerator: numerator.template, denominator: denominator.template });
      }
      const timeoutMs = config.timeoutMs ?? 5000;
      const tracks = { canary: config.tracks?.canary ?? 'canary', baseline: config.tracks?.baseline ?? 'stable' };
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

      /** One instant query: its labelled values, or why there are none (a refusal of the network policy throws). */
      async function instant(what: string, query: string, at: Date): Promise<LabelledValue[] | string> {
        const url = `${base}/api/v1/query?${new URLSearchParams({ query, time: (at.getTime() / 1000).toFixed(3) })}`;
        let response: Response;
        let body: PromResult | null;
        try {
          response = await egress.fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: authorization ? { authorization } : {} });
          body = (await response.json().catch((error: unknown) => {
            if ((error as { name?: string }).name === 'TimeoutError') throw error;
            return null;
          })) as PromResult | null;
        } catch (error) {
          if (isEgressDenied(error)) throw error;
          return describeFailure(error, base, timeoutMs);
        }
        if (!body) return `Prometheus at ${base} answered ${what} with HTTP ${response.status} and no Prometheus JSON`;
        if (!response.ok || body.status !== 'success') return `Prometheus at ${base} refused ${what}: ${body.error ?? `HTTP ${response.status}`}`;
        return labelledValues(what, body);
      }

      return {
        type: 'prometheus',
        async measure(request: MeasureRequest): Promise<MeasureResult> {
          // increase() needs two samples in the window: shorter than a few scrapes is "no data yet".
          const windowSeconds = Math.max(1, Math.round((request.to.getTime() - request.from.getTime()) / 1000));
          const window = `${windowSeconds}s`;
          const router = haproxyNames(request.target);
          const valuesFor = (side: 'canary' | 'baseline'): TemplateValues => ({
            service: request.service,
            environment: request.environment,
            window,
            canary: { version: request.canaryVersion, digest: request.canaryDigest, metadata: request.canaryMetadata },
            versionLabel: config.versionLabel ?? 'version',
            track: tracks[side],
            haproxy: router ? { backend: router.backend, server: side === 'canary' ? router.canaryServer : router.stableServer } : undefined,
          });
          const source: Record<string, unknown> = {
            type: 'prometheus',
            url: base,
            ...(config.preset ? { preset: config.preset } : {}),
            window,
            at: request.to.toISOString(),
          };

          const queries: Record<'canary' | 'baseline', Partial<Record<QueryName, string>>> = { canary: {}, baseline: {} };
          for (const side of ['canary', 'baseline'] as const) {
            for (const name of QUERY_NAMES) {
              const template = templates[name];
              if (!template) continue;
              const rendered = renderQuery(template, side, valuesFor(side));
              if (!rendered.ok) return { noData: `cannot write the ${side} ${name} query: ${rendered.reason}`, source };
              queries[side][name] = rendered.query;
            }
          }
          // The step's ratio metrics: a numerator and a denominator query each, per side.
          const ratioNames = request.ratios ?? [];
          const ratioQueries: Record<'canary' | 'baseline', Record<string, { numerator: string; denominator: string }>> = { canary: {}, baseline: {} };
          for (const name of ratioNames) {
            const ratio = ratioTemplates.get(name);
            if (!ratio) return { noData: `ratio "${name}": this source has no ratios.${name} queries (numerator and denominator)`, source };
            for (const side of ['canary', 'baseline'] as const) {
              const numerator = renderQuery(ratio.numerator, side, valuesFor(side));
              const denominator = renderQuery(ratio.denominator, side, valuesFor(side));
              const failure = !numerator.ok ? numerator : !denominator.ok ? denominator : null;
              if (failure && !failure.ok) return { noData: `cannot write the ${side} ratio "${name}" query: ${failure.reason}`, source };
              if (numerator.ok && denominator.ok) ratioQueries[side][name] = { numerator: numerator.query, denominator: denominator.query };
            }
          }
          source.queries = queries;
          if (ratioNames.length > 0) source.ratioQueries = ratioQueries;

          const names = QUERY_NAMES.filter((n) => templates[n]);
          const ratioAsks = (['canary', 'baseline'] as const).flatMap((side) =>
            ratioNames.flatMap((name) => (['numerator', 'denominator'] as const).map((part) => ({ side, name, part, query: ratioQueries[side][name]![part] }))),
          );
          const [answers, ratioAnswers] = await Promise.all([
            Promise.all(
              (['canary', 'baseline'] as const).flatMap((side) => names.map((name) => instant(`the ${side} ${name} query`, queries[side][name]!, request.to))),
            ),
            Promise.all(ratioAsks.map((a) => instant(`the ${a.side} ratio "${a.name}" ${a.part} query`, a.query, request.to))),
          ]);
          const failed = [...answers, ...ratioAnswers].find((a): a is string => typeof a === 'string');
          if (failed) return { noData: failed, source };
          const ratioAnswer = (side: 'canary' | 'baseline', name: string, part: 'numerator' | 'denominator') =>
            ratioAnswers[ratioAsks.findIndex((a) => a.side === side && a.name === name && a.part === part)] as LabelledValue[];
          const answer = (side: number, name: QueryName) => answers[side * names.length + names.indexOf(name)] as LabelledValue[];

          const sides: SideMeasurement[] = [];
          for (const [i, side] of (['canary', 'baseline'] as const).entries()) {
            const requests = readCount(`${side} requests`, answer(i, 'requests'));
            if (!requests.ok) return { noData: requests.reason, source };
            // Client libraries create a status code's series on its first request: no 5xx series yet is 0 errors.
            const errorSeries = answer(i, 'errors');
            const errors = errorSeries.length === 0 ? ({ ok: true, value: 0 } as const) : readCount(`${side} errors`, errorSeries);
            if (!errors.ok) return { noData: errors.reason, source };
            const latency = templates.latencyBuckets
              ? readLatencyBuckets(`${side} latency`, answer(i, 'latencyBuckets'))
              : ({ ok: true, value: null } as const);
            if (!latency.ok) return { noData: latency.reason, source };
            const ratios: Record<string, { numerator: number; denominator: number }> = {};
            for (const name of ratioNames) {
              const denominator = readCount(`${side} ratio "${name}" denominator`, ratioAnswer(side, name, 'denominator'));
              if (!denominator.ok) return { noData: denominator.reason, source };
              // Like errors: a counter's series appears with its first event, so none yet is 0 (the denominator must be there).
              const numeratorSeries = ratioAnswer(side, name, 'numerator');
              const numerator =
                numeratorSeries.length === 0 ? ({ ok: true, value: 0 } as const) : readCount(`${side} ratio "${name}" numerator`, numeratorSeries);
              if (!numerator.ok) return { noData: numerator.reason, source };
              ratios[name] = { numerator: numerator.value, denominator: denominator.value };
            }
            sides.push({ requests: requests.value, errors: errors.value, latency: latency.value, ...(ratioNames.length > 0 ? { ratios } : {}) });
          }
          return { canary: sides[0]!, baseline: sides[1]!, source };
        },
        close: async () => {},
      };
    },
  };
}
