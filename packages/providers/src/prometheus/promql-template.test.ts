import { describe, expect, it } from 'vitest';
import { escapePromString, parseMatchers, parseQueryTemplate, renderQuery, type TemplateValues } from './promql-template.ts';

const values = (overrides: Partial<TemplateValues> = {}, canary: Partial<TemplateValues['canary']> = {}): TemplateValues => ({
  service: 'checkout',
  environment: 'prod',
  window: '95s',
  versionLabel: 'version',
  track: 'canary',
  ...overrides,
  canary: { version: '1.2.0', digest: `sha256:${'ab12'.repeat(16)}`, metadata: { podHash: '7d9f8c6b5', build: 42 }, ...canary },
});

/** Both sides of a template, or the reason. */
function both(template: string, canaryValues = values(), baselineValues = values({ track: 'stable' })) {
  const parsed = parseQueryTemplate(template);
  if (!parsed.ok) throw new Error(parsed.problem);
  const canary = renderQuery(parsed.template, 'canary', canaryValues);
  const baseline = renderQuery(parsed.template, 'baseline', baselineValues);
  if (!canary.ok) return { reason: canary.reason };
  if (!baseline.ok) return { reason: baseline.reason };
  return { canary: canary.query, baseline: baseline.query };
}

describe('query templates: any label naming', () => {
  it.each<[string, string, { canary: string; baseline: string }]>([
    [
      'the original form: {{version}} as a whole matcher on the version label',
      'sum(increase(http_requests_total{service="{{service}}",environment="{{environment}}",{{version}}}[{{window}}]))',
      {
        canary: 'sum(increase(http_requests_total{service="checkout",environment="prod",version="1.2.0"}[95s]))',
        baseline: 'sum(increase(http_requests_total{service="checkout",environment="prod",version!="1.2.0"}[95s]))',
      },
    ],
    [
      'the version as a raw value under another label',
      'sum(rate(http_requests_total{app_version="{{version}}"}[1m]))',
      { canary: 'sum(rate(http_requests_total{app_version="1.2.0"}[1m]))', baseline: 'sum(rate(http_requests_total{app_version!="1.2.0"}[1m]))' },
    ],
    [
      'inside a regex matcher: escaped for RE2, negated as !~',
      'sum(x{image=~".*:{{version}}"})',
      { canary: 'sum(x{image=~".*:1\\\\.2\\\\.0"})', baseline: 'sum(x{image!~".*:1\\\\.2\\\\.0"})' },
    ],
    [
      'a track label: the baseline takes the other track, not a negation',
      'sum(increase(requests_total{track="{{track}}"}[{{window}}]))',
      { canary: 'sum(increase(requests_total{track="canary"}[95s]))', baseline: 'sum(increase(requests_total{track="stable"}[95s]))' },
    ],
    [
      "a pod label from the artifact's metadata (a value set per release by CI)",
      'sum(x{pod_template_hash="{{metadata.podHash}}"})',
      { canary: 'sum(x{pod_template_hash="7d9f8c6b5"})', baseline: 'sum(x{pod_template_hash!="7d9f8c6b5"})' },
    ],
    ['a numeric metadata value', 'x{build="{{metadata.build}}"}', { canary: 'x{build="42"}', baseline: 'x{build!="42"}' }],
    [
      "the digest's short form",
      'x{image_id=~".*{{digestShort}}.*"}',
      { canary: 'x{image_id=~".*ab12ab12ab12.*"}', baseline: 'x{image_id!~".*ab12ab12ab12.*"}' },
    ],
    [
      'the full digest, single quotes, spaces around the operator',
      "x{ image_digest = '{{digest}}' }",
      { canary: `x{ image_digest = 'sha256:${'ab12'.repeat(16)}' }`, baseline: `x{ image_digest != 'sha256:${'ab12'.repeat(16)}' }` },
    ],
    [
      'a bare selector starting with {{version}}, a trailing comma, a comment',
      'sum(x{{{version}},}) # per version',
      { canary: 'sum(x{version="1.2.0",}) # per version', baseline: 'sum(x{version!="1.2.0",}) # per version' },
    ],
    [
      'only the matcher holding the identity is negated',
      'sum(x{code=~"5..",v="{{version}}",env!="dev"}) / sum(x{v="{{version}}"})',
      { canary: 'sum(x{code=~"5..",v="1.2.0",env!="dev"}) / sum(x{v="1.2.0"})', baseline: 'sum(x{code=~"5..",v!="1.2.0",env!="dev"}) / sum(x{v!="1.2.0"})' },
    ],
    [
      'a raw `string` without placeholders is left alone',
      'x{a=~`[0-9]{3}`,{{version}}}',
      { canary: 'x{a=~`[0-9]{3}`,version="1.2.0"}', baseline: 'x{a=~`[0-9]{3}`,version!="1.2.0"}' },
    ],
    [
      '{{service}} in a function argument string',
      'label_replace(x{{{version}}}, "svc", "{{service}}", "", "")',
      {
        canary: 'label_replace(x{version="1.2.0"}, "svc", "checkout", "", "")',
        baseline: 'label_replace(x{version!="1.2.0"}, "svc", "checkout", "", "")',
      },
    ],
  ])('%s', (_name, template, expected) => {
    expect(both(template)).toEqual(expected);
  });

  it('a configured version label names the bare {{version}} matcher', () => {
    expect(both('x{{{version}}}', values({ versionLabel: 'app_version' }), values({ versionLabel: 'app_version', track: 'stable' }))).toEqual({
      canary: 'x{app_version="1.2.0"}',
      baseline: 'x{app_version!="1.2.0"}',
    });
  });

  it("HAProxy's backend and the side's server", () => {
    const haproxy = (server: string) => ({ backend: 'app', server });
    expect(
      both(
        'sum(increase(haproxy_server_http_responses_total{proxy="{{backend}}",server="{{server}}"}[{{window}}]))',
        values({ haproxy: haproxy('green') }),
        values({ haproxy: haproxy('blue') }),
      ),
    ).toEqual({
      canary: 'sum(increase(haproxy_server_http_responses_total{proxy="app",server="green"}[95s]))',
      baseline: 'sum(increase(haproxy_server_http_responses_total{proxy="app",server="blue"}[95s]))',
    });
  });
});

describe('escaping: a value matches itself and nothing else', () => {
  it.each<[string, string, string, string]>([
    ['a double quote', 'v"1', 'x{v="{{version}}"}', 'x{v="v\\"1"}'],
    ['a backslash', 'v\\1', 'x{v="{{version}}"}', 'x{v="v\\\\1"}'],
    ['both, in single quotes', `a'b"c\\`, "x{v='{{version}}'}", `x{v='a\\'b"c\\\\'}`],
    ['a line break and a tab', 'a\nb\tc', 'x{v="{{version}}"}', 'x{v="a\\nb\\tc"}'],
    ['a control character', 'a\u0001b', 'x{v="{{version}}"}', 'x{v="a\\x01b"}'],
    ['regex metacharacters inside =~', '1.2.0+build(7)|*', 'x{v=~"{{version}}"}', 'x{v=~"1\\\\.2\\\\.0\\\\+build\\\\(7\\\\)\\\\|\\\\*"}'],
    ['a quote and a backslash inside =~', 'a"\\', 'x{v=~"{{version}}"}', 'x{v=~"a\\"\\\\\\\\"}'],
    ['the bare matcher', 'v"\\', 'x{{{version}}}', 'x{version="v\\"\\\\"}'],
    ['a closing brace cannot end the selector early', '1"} or vector(1) or x{a="', 'x{v="{{version}}"}', 'x{v="1\\"} or vector(1) or x{a=\\""}'],
  ])('%s', (_name, version, template, canary) => {
    const parsed = parseQueryTemplate(template);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(renderQuery(parsed.template, 'canary', values({}, { version }))).toEqual({ ok: true, query: canary });
  });

  it('escapePromString leaves other quotes and unicode alone', () => {
    expect(escapePromString(`it's "é"`, '"')).toBe(`it's \\"é\\"`);
    expect(escapePromString(`it's "é"`, "'")).toBe(`it\\'s "é"`);
  });
});

describe('templates refused at registration, saying where', () => {
  it.each<[string, string, RegExp]>([
    ['an unknown placeholder', 'x{v="{{versoin}}"}', /unknown placeholder \{\{versoin\}\}; known: \{\{service\}\}.*\(at character 6\)/],
    ['a placeholder with spaces', 'x{v="{{ version }}"}', /unknown placeholder \{\{ version \}\}/],
    ['an empty placeholder', 'x{v="{{}}"}', /unknown placeholder \{\{\}\}/],
    ['an unclosed selector', 'sum(x{v="a"', /unbalanced "\{": never closed \(at character 6\)/],
    ['an unclosed parenthesis', 'sum(rate(x[1m])', /unbalanced "\(": never closed \(at character 4\)/],
    ['a stray closing bracket', 'sum(x)])', /unbalanced "\]": nothing to close/],
    ['crossed brackets', 'sum(rate(x[1m)])', /unbalanced "\)": "\[" at character 11 is still open/],
    ['a stray closing brace', 'sum(x)}', /unbalanced "\}": no selector to close/],
    ['an unterminated string', 'x{v="abc}', /unterminated string: the " is never closed \(at character 5\)/],
    ['a trailing backslash in a string', 'x{v="abc\\', /unterminated string/],
    ['{{version}} outside a selector', 'sum(x) * {{version}}', /\{\{version\}\} outside a selector/],
    ['{{service}} outside a string', '{{service}}_requests_total', /\{\{service\}\} outside a quoted string/],
    ['a per-side value as a whole matcher', 'x{{{track}}}', /\{\{track\}\} cannot be a whole matcher: write label="\{\{track\}\}"/],
    [
      'the identity outside a matcher',
      'label_replace(x, "v", "{{version}}", "", "")',
      /\{\{version\}\} names the canary, so it only goes in a label matcher's value/,
    ],
    ['the identity under a negated matcher', 'x{v!="{{version}}"}', /v!="…\{\{version\}\}…": a matcher on the canary's identity is written for the canary/],
    [
      'identity and track in one value',
      'x{v="{{version}}-{{track}}"}',
      /one value cannot hold the canary's identity \(\{\{version\}\}\) and a per-side value \(\{\{track\}\}\)/,
    ],
    ['a placeholder in a raw string', 'x{v=`{{version}}`}', /a `raw string` cannot escape a placeholder's value/],
    ['a label name that is not one', 'x{1v="a"}', /expected a label name in the selector, found "1"/],
    ['no operator', 'x{v "a"}', /expected =, !=, =~ or !~ after v/],
    ['an unquoted value', 'x{v=a}', /expected a quoted value after v=/],
    ['two commas', 'x{a="1",,b="2"}', /two "," in a row/],
    ['a missing comma', 'x{a="1" b="2"}', /expected "," or "\}" in the selector, found "b"/],
  ])('%s', (_name, template, problem) => {
    const parsed = parseQueryTemplate(template);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toMatch(problem);
  });
});

describe('values a release does not have: why, not a query', () => {
  it.each<[string, string, TemplateValues, RegExp]>([
    ['no HAProxy router for {{server}}', 'x{server="{{server}}"}', values(), /\{\{server\}\} needs the environment's traffic router to be HAProxy/],
    ['no such metadata key', 'x{p="{{metadata.podHash}}"}', values({}, { metadata: {} }), /metadata has no "podHash" \(a string or a number\)/],
    ['metadata that is not a string', 'x{p="{{metadata.podHash}}"}', values({}, { metadata: { podHash: { a: 1 } } }), /metadata has no "podHash"/],
    ['no metadata at all', 'x{p="{{metadata.podHash}}"}', values({}, { metadata: null }), /metadata has no "podHash"/],
    ['no digest', 'x{d="{{digest}}"}', values({}, { digest: undefined }), /no digest for \{\{digest\}\}/],
    ['a digest too short for {{digestShort}}', 'x{d="{{digestShort}}"}', values({}, { digest: 'sha256:ab' }), /has no short form/],
  ])('%s', (_name, template, v, reason) => {
    const parsed = parseQueryTemplate(template);
    if (!parsed.ok) throw new Error(parsed.problem);
    const rendered = renderQuery(parsed.template, 'canary', v);
    expect(rendered.ok).toBe(false);
    expect(!rendered.ok && rendered.reason).toMatch(reason);
  });
});

describe('preset matchers', () => {
  it.each<[string, true | RegExp]>([
    ['job="haproxy-prod"', true],
    ['job="haproxy", instance=~"lb-.*"', true],
    ['environment="{{environment}}"', true],
    ['job="a"} or vector(1) or x{b="c"', /only label matchers/],
    ['job=', /expected a quoted value after job=/],
    ['server="{{server}}"', /differs between canary and baseline/],
    ['v="{{version}}"', /differs between canary and baseline/],
  ])('%s', (matchers, expected) => {
    const parsed = parseMatchers(matchers);
    if (expected === true) expect(parsed).toEqual({ ok: true, template: matchers });
    else expect(!parsed.ok && parsed.problem).toMatch(expected);
  });
});
