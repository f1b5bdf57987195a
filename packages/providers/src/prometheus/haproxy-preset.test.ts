import { admitMeasurement, carriedCounts, judge, type JudgeState, type LookCounts, type MeasureRequest, type Measurement, type Verdict } from '@glidepath/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHaproxyWithExporter, type HaproxyExporterFixture } from '../haproxy/haproxy-exporter.testing.ts';
import { createEgress } from '../network/egress.ts';
import { HAPROXY_CONNECTION_ERRORS, HAPROXY_RESPONSE_ERRORS, HAPROXY_RESPONSES } from './haproxy-preset.ts';
import { prometheusMetricProvider } from './prometheus.metric-provider.ts';
import { startPrometheus, type PrometheusFixture } from './prometheus.testing.ts';
import { parseQueryTemplate, renderQuery } from './promql-template.ts';

/**
 * Zero-instrumentation analysis end to end: a real HAProxy 2.6 with its built-in exporter,
 * a real Prometheus scraping it every second, two backends whose servers answer 503 to every
 * n-th request (the "bad" canary to 1 in 5, the "good" one like its stable, 1 in 100), and
 * core's judge folding the provider's counts look after look as the worker does.
 */
const ROUNDS = 10;
const PER_ROUND = 150;
const LABELLED_VERSION = '1.2.0+build"7\\x';

let haproxy: HaproxyExporterFixture;
let prometheus: PrometheusFixture;
const egress = createEgress({ allow: [], deny: [], unixSocketDirs: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  haproxy = await startHaproxyWithExporter([
    { name: 'bad', stableErrorEvery: 100, canaryErrorEvery: 5, canaryWeight: 50 },
    { name: 'good', stableErrorEvery: 100, canaryErrorEvery: 100, canaryWeight: 50 },
  ]);
  prometheus = await startPrometheus([
    { name: 'haproxy', targets: [haproxy.exporterAddress] },
    // The same exporter again with awkward label values, for the escaping checks below.
    { name: 'labelled', targets: [haproxy.exporterAddress], labels: { app_version: LABELLED_VERSION, build_tag: '1x2x0' } },
  ]);
  // Two scrapes with every counter at 0 before any traffic.
  await prometheus.scraped(2);
});
afterAll(async () => {
  await prometheus?.dispose();
  await haproxy?.dispose();
});

function provider() {
  const factory = prometheusMetricProvider();
  const target = { type: 'haproxy', config: { runtimeApi: haproxy.runtimeApi, backend: 'bad', stableServer: 'stable', canaryServer: 'canary' } };
  // As registration checks it: the preset against the environment's HAProxy router.
  const check = factory.validateConfig({ url: prometheus.url, preset: 'haproxy', matchers: 'job="haproxy"' }, { target });
  if (!check.ok) throw new Error(JSON.stringify(check.problems));
  return factory.create(check.config, { egress });
}

const requestFor = (backend: string, from: Date, to: Date): MeasureRequest => ({
  service: 'shop',
  environment: 'prod',
  environmentId: 'env-prod',
  canaryVersion: '2.0.0',
  target: { type: 'haproxy', config: { runtimeApi: haproxy.runtimeApi, backend, stableServer: 'stable', canaryServer: 'canary' } },
  from,
  to,
});

/** One analysis as the worker runs it: measure, admit, fold into the judge with the last look's state. */
function analysis(backend: string, from: Date) {
  const source = provider();
  let state: JudgeState | undefined;
  let counts: LookCounts | null = null;
  const verdicts: Verdict[] = [];
  const noData: string[] = [];
  return {
    verdicts,
    noData,
    async look(to = new Date()): Promise<Measurement | null> {
      const admitted = admitMeasurement(await source.measure(requestFor(backend, from, to)), counts);
      counts = carriedCounts(admitted, counts);
      if (admitted.noDataReason) noData.push(admitted.noDataReason);
      const m = admitted.usable;
      const result = judge(
        {
          elapsedSeconds: (to.getTime() - from.getTime()) / 1000,
          at: to.toISOString(),
          metrics: m
            ? [
                {
                  name: 'errors',
                  kind: 'errors',
                  canary: { total: m.canary.requests, events: m.canary.errors },
                  baseline: { total: m.baseline.requests, events: m.baseline.errors },
                },
              ]
            : [],
        },
        { metrics: [{ name: 'errors', kind: 'errors' }], alpha: 0.01 },
        state,
      );
      state = result.state;
      verdicts.push(result.verdict);
      return m;
    },
  };
}

describe("preset haproxy: canary against stable from HAProxy's own exporter, through a real Prometheus", () => {
  it('reads per-server counts exactly, and the judge fails the bad canary and not the good one', async () => {
    const from = new Date();
    const bad = analysis('bad', from);
    const good = analysis('good', from);
    for (let round = 0; round < ROUNDS; round++) {
      const started = Date.now();
      await Promise.all([haproxy.send('bad', PER_ROUND), haproxy.send('good', PER_ROUND)]);
      await sleep(Math.max(0, 1000 - (Date.now() - started)));
      await Promise.all([bad.look(), good.look()]);
    }
    // The bad canary fails, with its evidence; the good one never does, and in these seconds (a dozen
    // errors on each side) the evidence leans its way without yet ruling out a 2× canary, which a pass
    // needs. A look may be skipped as "went down" when increase() extrapolated further on the look
    // before: never judged, and the next look goes on.
    const decided = (verdicts: Verdict[]) => verdicts.find((v) => v.outcome !== 'inconclusive');
    expect(decided(bad.verdicts)?.outcome, JSON.stringify(bad.noData)).toBe('fail');
    const evidence = decided(bad.verdicts)!.metrics[0]!.tests[0]!;
    expect(evidence.canary.rate!).toBeGreaterThan(5 * evidence.baseline.rate!);
    expect(good.verdicts.map((v) => v.outcome)).not.toContain('fail');
    const last = good.verdicts.at(-1)!.metrics[0]!;
    expect(last.reason, JSON.stringify({ verdict: good.verdicts.at(-1), noData: good.noData })).toMatch(/^nothing against the canary yet/);
    expect(last.tests[0]!.passTest.logEValue).toBeGreaterThan(0);
    for (const reason of [...bad.noData, ...good.noData]) expect(reason).toMatch(/no series matched|went down since the last look/);

    // Two more scrapes, then one measure ending exactly at the last scrape: increase() then has
    // nothing to extrapolate, so its counts are HAProxy's own, to the request.
    await sleep(2500);
    const lastScrape = await prometheus.query('max(timestamp(up{job="haproxy"}))');
    const to = new Date(Number((lastScrape.result as Array<{ value: [number, string] }>)[0]!.value[1]) * 1000);
    for (const name of ['bad', 'good']) {
      const final = await provider().measure(requestFor(name, from, to));
      const served = haproxy.served(name);
      expect(served.stable.requests + served.canary.requests).toBe(ROUNDS * PER_ROUND);
      if (!final || 'noData' in final) throw new Error(`${name}: ${JSON.stringify(final)}`);
      expect({
        canary: { requests: final.canary.requests, errors: final.canary.errors },
        baseline: { requests: final.baseline.requests, errors: final.baseline.errors },
      }).toEqual({ canary: served.canary, baseline: served.stable });
      expect(final.canary.latency).toBeNull(); // HAProxy 2.6 exports no histogram
    }
    expect(haproxy.served('bad').canary.errors).toBe(Math.floor(haproxy.served('bad').canary.requests / 5));
  });

  it('the series the preset reads are the ones HAProxy 2.6 exports', async () => {
    const names = await prometheus.query(`count by (__name__) ({__name__=~"haproxy_server_.*",job="haproxy",proxy="bad",server="canary"})`);
    const exported = (names.result as Array<{ metric: { __name__: string } }>).map((s) => s.metric.__name__);
    expect(exported).toEqual(expect.arrayContaining([HAPROXY_RESPONSES, HAPROXY_RESPONSE_ERRORS, HAPROXY_CONNECTION_ERRORS]));
    // Latency is only an average and a maximum: nothing the judge can count.
    expect(exported).toEqual(expect.arrayContaining(['haproxy_server_response_time_average_seconds', 'haproxy_server_max_response_time_seconds']));
    expect(exported.filter((n) => n.endsWith('_bucket'))).toEqual([]);
    const codes = await prometheus.query(`${HAPROXY_RESPONSES}{job="haproxy",proxy="bad",server="canary"}`);
    expect((codes.result as Array<{ metric: { code: string } }>).map((s) => s.metric.code).sort()).toEqual(['1xx', '2xx', '3xx', '4xx', '5xx', 'other']);
  });

  it('a backend the router names but HAProxy does not have: no data with why, no verdict', async () => {
    const from = new Date(Date.now() - 10_000);
    const measured = await provider().measure(requestFor('missing', from, new Date()));
    expect(measured).toMatchObject({ noData: expect.stringMatching(/^canary requests: no series matched/) });
  });
});

describe('escaped values select exactly themselves in a real Prometheus', () => {
  const values = (version: string) => ({ service: 's', environment: 'e', window: '60s', canary: { version }, versionLabel: 'app_version', track: 'canary' });

  it.each<[string, string, string, number, number]>([
    ['quote and backslash, =', LABELLED_VERSION, 'up{job="labelled",app_version="{{version}}"}', 1, 0],
    ['quote and backslash, =~ (regex-escaped too)', LABELLED_VERSION, 'up{job="labelled",app_version=~"{{version}}"}', 1, 0],
    ['the bare matcher on versionLabel', LABELLED_VERSION, 'up{job="labelled",{{version}}}', 1, 0],
    ['a dot is not any character inside =~: 1.2.0 is not 1x2x0', '1.2.0', 'up{job="labelled",build_tag=~"{{version}}"}', 0, 1],
    ['the value itself', '1x2x0', 'up{job="labelled",build_tag=~"{{version}}"}', 1, 0],
    ['a prefix is not the value (=~ is anchored)', '1x2', 'up{job="labelled",build_tag=~"{{version}}"}', 0, 1],
  ])('%s', async (_name, version, template, canarySeries, baselineSeries) => {
    const parsed = parseQueryTemplate(template);
    if (!parsed.ok) throw new Error(parsed.problem);
    for (const [side, expected] of [
      ['canary', canarySeries],
      ['baseline', baselineSeries],
    ] as const) {
      const rendered = renderQuery(parsed.template, side, values(version));
      if (!rendered.ok) throw new Error(rendered.reason);
      const data = await prometheus.query(rendered.query);
      expect((data.result as unknown[]).length, `${side}: ${rendered.query}`).toBe(expected);
    }
  });
});
