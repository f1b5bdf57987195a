import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  streamClients: Counter<'event'>;
}

export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'glidepath_api_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'glidepath_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    streamClients: new Counter({
      name: 'glidepath_stream_connections_total',
      help: 'Websocket stream connections opened and closed',
      labelNames: ['event'],
      registers: [registry],
    }),
  };
}
