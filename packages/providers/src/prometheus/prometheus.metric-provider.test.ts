import type { MeasureRequest, MeasureResult } from '@glidepath/core';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEgressDenied } from '../network/egress-denied.ts';
import { createEgress } from '../network/egress.ts';
import { prometheusMetricProvider, prometheusReadsLatency, type PrometheusConfig } from './prometheus.metric-provider.ts';

/**
 * A stand-in Prometheus whose answer per query the test decides: the provider must turn every
 * kind of garbage into "no data" with why, never into counts.
 */
type Answer = { status?: number; body?: unknown; delayMs?: number; raw?: string };
let answer: (query: string) => Answer = () => ({});
const seen: string[] = [];
let server: Server;
let url = '';

const vector = (...values: Array<[Record<string, string>, string]>) => ({
  status: 'success',
  data: { resultType: 'vector', result: values.map(([metric, value]) => ({ metric, value: [1700000000, value] })) },
});
const count = (value: string) => vector([{}, value]);

beforeAll(async () => {
  server = createServer((req, res) => {
    const query = new URL(req.url!, 'http://x').searchParams.get('query') ?? '';
    seen.push(query);
    const a = answer(query);
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json' }).end(a.raw ?? JSON.stringify(a.body ?? count('0')));
    }, a.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const egress = createEgress({ allow: [], deny: [], unixSocketDirs: [] });
const request: MeasureRequest = {
  service: 'checkout',
  environment: 'prod',
  environmentId: 'env-1',
  canaryVersion: '1.2.0',
  canaryDigest: `sha256:${'c0ffee'.repeat(10)}abcd`,
  from: new Date('2026-01-01T00:00:00Z'),
  to: new Date('2026-01-01T00:01:35Z'),
};

function provider(config: Partial<PrometheusConfig> = {}) {
  const factory = prometheusMetricProvider();
  const check = factory.validateConfig({ url, ...config });
  if (!check.ok) throw new Error(JSON.stringify(check.problems));
  return factory.create(check.config, { egress });
}

/** canary/baseline and requests/errors/latency from the query text. */
const sideOf = (q: string) => (q.includes('!=') || q.includes('stable') ? 'baseline' : 'canary');
const kindOf = (q: string) => (q.includes('_bucket') ? 'latency' : q.includes('5..') || q.includes('5xx') ? 'errors' : 'requests');

describe('Prometheus source: counts per side', () => {
  it('reads canary and baseline, records the queries it ran', async () => {
    answer = (q) => {
      const side = sideOf(q);
      if (kindOf(q) === 'latency')
        return { body: vector([{ le: '0.1' }, side === 'canary' ? '40' : '400'], [{ le: '+Inf' }, side === 'canary' ? '50' : '500']) };
      return { body: count(kindOf(q) === 'errors' ? (side === 'canary' ? '2' : '5') : side === 'canary' ? '50.4' : '500') };
    };
    const measured = (await provider().measure(request)) as Exclude<MeasureResult, { noData: string }>;
    expect(measured).toMatchObject({
      canary: {
        requests: 50,
        errors: 2,
        latency: {
          buckets: [
            { le: 100, count: 40 },
            { le: Infinity, count: 50 },
          ],
        },
      },
      baseline: { requests: 500, errors: 5 },
      source: { type: 'prometheus', url, window: '95s', at: request.to.toISOString() },
    });
    const queries = (measured.source as { queries: Record<string, Record<string, string>> }).queries;
    expect(queries.canary!.requests).toBe('sum(increase(http_requests_total{service="checkout",environment="prod",version="1.2.0"}[95s]))');
    expect(queries.baseline!.requests).toBe('sum(increase(http_requests_total{service="checkout",environment="prod",version!="1.2.0"}[95s]))');
  });

  it('another label name, and the digest: the queries Prometheus receives', async () => {
    answer = () => ({ body: count('1') });
    seen.length = 0;
    await provider({
      versionLabel: 'app_version',
      queries: { requests: 'sum(x{{{version}}})', errors: 'sum(y{image=~".*@{{digest}}"})', latencyBuckets: '' },
    }).measure(request);
    expect(seen.sort()).toEqual(
      [
        'sum(x{app_version="1.2.0"})',
        'sum(x{app_version!="1.2.0"})',
        `sum(y{image=~".*@sha256:${'c0ffee'.repeat(10)}abcd"})`,
        `sum(y{image!~".*@sha256:${'c0ffee'.repeat(10)}abcd"})`,
      ].sort(),
    );
  });

  it('no 5xx series yet is zero errors (client libraries create a code on first use); no request series is no data', async () => {
    answer = (q) => ({ body: kindOf(q) === 'errors' ? vector() : count('10') });
    expect(await provider({ queries: { latencyBuckets: '' } }).measure(request)).toMatchObject({ canary: { requests: 10, errors: 0 } });
    answer = (q) => ({ body: kindOf(q) === 'requests' && sideOf(q) === 'canary' ? vector() : count('10') });
    expect(await provider({ queries: { latencyBuckets: '' } }).measure(request)).toMatchObject({
      noData: expect.stringMatching(/^canary requests: no series matched/),
    });
  });
});

describe('Prometheus source: garbage is "no data" with why', () => {
  const requestsOnly = (bad: Answer) => (q: string) => (kindOf(q) === 'requests' && sideOf(q) === 'canary' ? bad : { body: count('3') });

  it.each<[string, (q: string) => Answer, RegExp]>([
    [
      'several series where one is expected',
      requestsOnly({ body: vector([{ pod: 'a' }, '10'], [{ pod: 'b' }, '12']) }),
      /canary requests: 2 series where one is expected \(\{pod="a"\}, \{pod="b"\}\)/,
    ],
    ['NaN', requestsOnly({ body: count('NaN') }), /canary requests is NaN/],
    ['+Inf', requestsOnly({ body: count('+Inf') }), /canary requests is \+Inf/],
    [
      'a negative count (a reset read with delta())',
      requestsOnly({ body: count('-40') }),
      /canary requests is negative \(-40\): a counter that went down \(a restart\)/,
    ],
    [
      'several error series',
      (q) => ({ body: kindOf(q) === 'errors' ? vector([{ code: '500' }, '1'], [{ code: '503' }, '2']) : count('9') }),
      /errors: 2 series where one is expected/,
    ],
    [
      'latency buckets not aggregated by le',
      (q) => ({ body: kindOf(q) === 'latency' ? vector([{ le: '0.1', pod: 'a' }, '1'], [{ le: '0.1', pod: 'b' }, '1'], [{ le: '+Inf' }, '3']) : count('9') }),
      /latency: several series with le="0.1"/,
    ],
    [
      'a range vector instead of an instant one',
      requestsOnly({ body: { status: 'success', data: { resultType: 'matrix', result: [] } } }),
      /canary requests query answers a matrix, not an instant vector/,
    ],
    [
      'a query Prometheus refuses',
      requestsOnly({ status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error: unexpected "}"' } }),
      /refused the canary requests query: parse error: unexpected "\}"/,
    ],
    ['a 503 without JSON', requestsOnly({ status: 503, raw: 'upstream down' }), /answered the canary requests query with HTTP 503 and no Prometheus JSON/],
    ['a source that times out', requestsOnly({ delayMs: 1500 }), /did not answer within 300 ms/],
  ])('%s', async (_name, bad, reason) => {
    answer = bad;
    const measured = await provider({ timeoutMs: 300 }).measure(request);
    expect(measured).toMatchObject({ noData: expect.stringMatching(reason), source: { type: 'prometheus' } });
    expect(measured).not.toHaveProperty('canary');
  });

  it('a source that is down', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const factory = prometheusMetricProvider();
    const measured = await factory.create({ url: `http://127.0.0.1:${port}` }, { egress }).measure(request);
    expect(measured).toMatchObject({ noData: expect.stringMatching(/could not be reached: ECONNREFUSED/) });
  });

  it('a value this release does not have: no data, no query sent', async () => {
    seen.length = 0;
    const measured = await provider({ queries: { requests: 'sum(x{pod_template_hash="{{metadata.podHash}}"})' } }).measure(request);
    expect(measured).toMatchObject({
      noData: expect.stringMatching(/cannot write the canary requests query: the canary artifact's metadata has no "podHash"/),
    });
    expect(seen).toEqual([]);
  });

  it('the preset without an HAProxy router: no data with why', async () => {
    const measured = await provider({ preset: 'haproxy' }).measure({ ...request, target: { type: 'webhook', config: {} } });
    expect(measured).toMatchObject({ noData: expect.stringMatching(/\{\{backend\}\} needs the environment's traffic router to be HAProxy/) });
  });

  it('a destination the network policy refuses still throws: the analysis fails with why', async () => {
    const strict = createEgress({ allow: [], deny: ['127.0.0.0/8'], unixSocketDirs: [] });
    const factory = prometheusMetricProvider();
    const error = await factory
      .create({ url }, { egress: strict })
      .measure(request)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isEgressDenied(error)).toBe(true);
  });
});

describe('Prometheus source config: refused at registration naming the field', () => {
  const validate = (config: Record<string, unknown>, target?: { type: string; config: unknown }) =>
    prometheusMetricProvider().validateConfig({ url: 'http://prometheus:9090', ...config }, target ? { target } : undefined);

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['an unknown placeholder', { queries: { requests: 'sum(x{v="{{verison}}"})' } }, 'queries.requests', /unknown placeholder \{\{verison\}\}/],
    ['unbalanced braces', { queries: { errors: 'sum(x{v="a"' } }, 'queries.errors', /unbalanced "\{"/],
    ['the identity under !=', { queries: { latencyBuckets: 'sum by (le) (x{v!="{{version}}"})' } }, 'queries.latencyBuckets', /written for the canary/],
    ['a version label that is not a label name', { versionLabel: 'app-version' }, 'versionLabel', /pattern/],
    ['the same track on both sides', { tracks: { canary: 'x', baseline: 'x' } }, 'tracks.baseline', /must differ/],
    ['matchers without the preset', { matchers: 'job="x"' }, 'matchers', /only with preset haproxy/],
    ['matchers that escape the selector', { preset: 'haproxy', matchers: 'job="x"} or vector(1) or y{a="b"' }, 'matchers', /only label matchers/],
    ['an unknown preset', { preset: 'nginx' }, 'preset', /./],
  ])('%s', (_name, config, path, message) => {
    const check = validate(config);
    expect(check.ok).toBe(false);
    const problem = !check.ok ? check.problems.find((p) => p.path === path) : undefined;
    expect(problem, JSON.stringify(check)).toBeDefined();
    expect(problem!.message).toMatch(message);
  });

  it("the preset and {{server}} need the environment's router to be HAProxy", () => {
    const haproxy = { type: 'haproxy', config: { runtimeApi: 'unix:/run/haproxy.sock', backend: 'app', stableServer: 'blue', canaryServer: 'green' } };
    expect(validate({ preset: 'haproxy' }, haproxy).ok).toBe(true);
    expect(validate({ preset: 'haproxy' }).ok).toBe(true); // no context: the worker, which reports no data instead
    expect(validate({ preset: 'haproxy' }, { type: 'webhook', config: {} })).toEqual({
      ok: false,
      problems: [{ path: 'preset', message: expect.stringMatching(/needs the environment's target to be haproxy \(it is webhook\)/) }],
    });
    // An environment with instances names no canary and stable server: per-server metrics cannot tell the versions apart.
    expect(validate({ preset: 'haproxy' }, { type: 'haproxy', config: { runtimeApi: 'unix:/run/haproxy.sock', backend: 'app' } })).toEqual({
      ok: false,
      problems: [{ path: 'preset', message: expect.stringMatching(/does not name \(its instances are replaced in place\): judge by version instead/) }],
    });
    expect(validate({ queries: { requests: 'sum(x{srv="{{server}}"})' } }, { type: 'webhook', config: {} })).toMatchObject({
      ok: false,
      problems: [{ path: 'queries.requests' }],
    });
  });

  it('reads latency unless told not to, or when only HAProxy metrics are read', () => {
    expect(prometheusReadsLatency({ url: 'http://p' })).toBe(true);
    expect(prometheusReadsLatency({ url: 'http://p', queries: { latencyBuckets: '' } })).toBe(false);
    expect(prometheusReadsLatency({ url: 'http://p', preset: 'haproxy' })).toBe(false);
    expect(prometheusReadsLatency({ url: 'http://p', preset: 'haproxy', queries: { latencyBuckets: 'sum by (le) (x{server="{{server}}"})' } })).toBe(true);
  });
});

describe('Prometheus source: ratio metrics from their own numerator and denominator queries', () => {
  const ratios = {
    accuracy: {
      numerator: 'sum(increase(predictions_correct_total{service="{{service}}",{{version}}}[{{window}}]))',
      denominator: 'sum(increase(predictions_labelled_total{service="{{service}}",{{version}}}[{{window}}]))',
    },
  };
  const ratioRequest = { ...request, ratios: ['accuracy'] };
  const partOf = (q: string) => (q.includes('predictions_correct') ? 'numerator' : q.includes('predictions_labelled') ? 'denominator' : null);
  const answering = (ratio: (side: string, part: string) => Answer) => (q: string) => {
    const part = partOf(q);
    return part ? ratio(sideOf(q), part) : { body: count('100') };
  };

  it('reads both sides, with the templated queries in the evidence', async () => {
    answer = answering((side, part) => ({ body: count(side === 'canary' ? (part === 'numerator' ? '80' : '100') : part === 'numerator' ? '900.4' : '1000') }));
    const measured = (await provider({ ratios, queries: { latencyBuckets: '' } }).measure(ratioRequest)) as Exclude<MeasureResult, { noData: string }>;
    expect(measured.canary.ratios).toEqual({ accuracy: { numerator: 80, denominator: 100 } });
    expect(measured.baseline.ratios).toEqual({ accuracy: { numerator: 900, denominator: 1000 } });
    expect((measured.source as { ratioQueries: unknown }).ratioQueries).toEqual({
      canary: {
        accuracy: {
          numerator: 'sum(increase(predictions_correct_total{service="checkout",version="1.2.0"}[95s]))',
          denominator: 'sum(increase(predictions_labelled_total{service="checkout",version="1.2.0"}[95s]))',
        },
      },
      baseline: {
        accuracy: {
          numerator: 'sum(increase(predictions_correct_total{service="checkout",version!="1.2.0"}[95s]))',
          denominator: 'sum(increase(predictions_labelled_total{service="checkout",version!="1.2.0"}[95s]))',
        },
      },
    });
  });

  it('a step without ratio metrics sends no ratio query', async () => {
    answer = () => ({ body: count('5') });
    seen.length = 0;
    const measured = await provider({ ratios, queries: { latencyBuckets: '' } }).measure(request);
    expect(seen.some((q) => partOf(q))).toBe(false);
    expect((measured as { canary: object }).canary).not.toHaveProperty('ratios');
  });

  it('no numerator series yet is 0 (a counter appears with its first event)', async () => {
    answer = answering((_side, part) => ({ body: part === 'numerator' ? vector() : count('10') }));
    expect(await provider({ ratios, queries: { latencyBuckets: '' } }).measure(ratioRequest)).toMatchObject({
      canary: { ratios: { accuracy: { numerator: 0, denominator: 10 } } },
    });
  });

  it.each<[string, (side: string, part: string) => Answer, RegExp]>([
    [
      'no denominator series',
      (side, part) => ({ body: part === 'denominator' && side === 'baseline' ? vector() : count('3') }),
      /^baseline ratio "accuracy" denominator: no series matched/,
    ],
    [
      'several numerator series',
      (side, part) => ({ body: part === 'numerator' && side === 'canary' ? vector([{ pod: 'a' }, '1'], [{ pod: 'b' }, '2']) : count('3') }),
      /^canary ratio "accuracy" numerator: 2 series where one is expected/,
    ],
    [
      'a NaN denominator',
      (side, part) => ({ body: part === 'denominator' && side === 'canary' ? count('NaN') : count('3') }),
      /^canary ratio "accuracy" denominator is NaN/,
    ],
    [
      'a refused query',
      (side, part) => (part === 'numerator' && side === 'canary' ? { status: 400, body: { status: 'error', error: 'parse error' } } : { body: count('3') }),
      /refused the canary ratio "accuracy" numerator query: parse error/,
    ],
  ])('%s: no data with why', async (_name, ratio, reason) => {
    answer = answering(ratio);
    const measured = await provider({ ratios, queries: { latencyBuckets: '' } }).measure(ratioRequest);
    expect(measured).toMatchObject({ noData: expect.stringMatching(reason) });
  });

  it('a ratio the step judges but the config has no queries for: no data, no query sent', async () => {
    seen.length = 0;
    expect(await provider({ queries: { latencyBuckets: '' } }).measure(ratioRequest)).toMatchObject({
      noData: 'ratio "accuracy": this source has no ratios.accuracy queries (numerator and denominator)',
    });
    expect(seen).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      'a bad numerator template',
      { ratios: { accuracy: { numerator: 'sum(x{v="{{verison}}"})', denominator: 'sum(y)' } } },
      'ratios.accuracy.numerator',
      /unknown placeholder \{\{verison\}\}/,
    ],
    [
      'a denominator with the identity under !=',
      { ratios: { accuracy: { numerator: 'sum(x)', denominator: 'sum(y{v!="{{version}}"})' } } },
      'ratios.accuracy.denominator',
      /written for the canary/,
    ],
    [
      'a name too long for a plan',
      { ratios: { ['m'.repeat(65)]: { numerator: 'sum(x)', denominator: 'sum(y)' } } },
      `ratios.${'m'.repeat(65)}`,
      /1 to 64 characters/,
    ],
  ])('registration refuses %s naming the field', (_name, config, path, message) => {
    const check = prometheusMetricProvider().validateConfig({ url: 'http://prometheus:9090', ...config });
    expect(check.ok).toBe(false);
    const problem = !check.ok ? check.problems.find((p) => p.path === path) : undefined;
    expect(problem, JSON.stringify(check)).toBeDefined();
    expect(problem!.message).toMatch(message);
  });

  it('registration refuses a ratio without its denominator, and {{server}} without HAProxy', () => {
    const factory = prometheusMetricProvider();
    const missing = factory.validateConfig({ url: 'http://p', ratios: { accuracy: { numerator: 'sum(x)' } } });
    expect(missing.ok).toBe(false);
    expect(JSON.stringify(missing)).toMatch(/ratios.*accuracy/);
    const server = factory.validateConfig(
      { url: 'http://p', ratios: { accuracy: { numerator: 'sum(x{s="{{server}}"})', denominator: 'sum(y)' } } },
      { target: { type: 'webhook', config: {} } },
    );
    expect(server).toMatchObject({ ok: false, problems: [{ path: 'ratios.accuracy.numerator' }] });
    expect(factory.measuresRatio!({ url: 'http://p', ratios }, 'accuracy')).toBe(true);
    expect(factory.measuresRatio!({ url: 'http://p', ratios }, 'conversion')).toBe(false);
    expect(factory.measuresRatio!({ url: 'http://p' }, 'accuracy')).toBe(false);
  });
});
