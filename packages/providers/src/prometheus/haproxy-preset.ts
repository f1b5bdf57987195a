/**
 * Zero-instrumentation analysis: canary against stable from HAProxy's own per-server metrics,
 * as its built-in exporter (`http-request use-service prometheus-exporter`) serves them and
 * Prometheus scrapes them. The backend and the two servers are the environment's HAProxy
 * router's (backend, canaryServer, stableServer): nothing else to configure.
 *
 * What HAProxy 2.6 counts per server, measured here (see README):
 * - haproxy_server_http_responses_total{proxy,server,code="1xx".."5xx"|"other"}: responses the
 *   server sent;
 * - haproxy_server_response_errors_total: requests that got no valid response from the server
 *   (it closed the connection, answered garbage, or timed out): HAProxy answers 502 or 504
 *   itself and they are NOT in the server's http_responses_total;
 * - haproxy_server_connection_errors_total: requests that could not connect to it (503).
 * So requests = all three, errors = 5xx responses + response errors + connection errors:
 * counts by server, which is what the judge's count test needs.
 *
 * Latency: the exporter has no per-server histogram (2.6 exports only
 * haproxy_server_response_time_average_seconds, an average over the last 1024 requests, and
 * haproxy_server_max_response_time_seconds; the request for histograms, haproxy/haproxy#398,
 * is still open). Neither is a count, so neither can be tested soundly: the preset reads no
 * latency, and a plan that judges latency is refused for such an environment. A latencyBuckets
 * query of your own (e.g. from an access-log exporter, with {{server}}) can be added.
 */
export const HAPROXY_RESPONSES = 'haproxy_server_http_responses_total';
export const HAPROXY_RESPONSE_ERRORS = 'haproxy_server_response_errors_total';
export const HAPROXY_CONNECTION_ERRORS = 'haproxy_server_connection_errors_total';

export function haproxyPresetQueries(matchers?: string): { requests: string; errors: string; latencyBuckets: string } {
  const selector = (extra = '') => `{proxy="{{backend}}",server="{{server}}"${extra}${matchers ? `,${matchers}` : ''}}`;
  const increase = (metric: string, extra?: string) => `sum(increase(${metric}${selector(extra)}[{{window}}]))`;
  const failures = `${increase(HAPROXY_RESPONSE_ERRORS)} + ${increase(HAPROXY_CONNECTION_ERRORS)}`;
  return {
    requests: `${increase(HAPROXY_RESPONSES)} + ${failures}`,
    errors: `${increase(HAPROXY_RESPONSES, ',code="5xx"')} + ${failures}`,
    latencyBuckets: '',
  };
}

/** The backend and servers of an HAProxy router spec, or null when the environment's router is something else. */
export function haproxyNames(target: { type: string; config: unknown } | undefined): { backend: string; canaryServer: string; stableServer: string } | null {
  if (target?.type !== 'haproxy') return null;
  const c = target.config as Record<string, unknown> | null;
  const { backend, canaryServer, stableServer } = c ?? {};
  if (typeof backend !== 'string' || typeof canaryServer !== 'string' || typeof stableServer !== 'string') return null;
  return { backend, canaryServer, stableServer };
}
