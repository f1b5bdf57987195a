import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  auditChainValid: Gauge;
  auditChainEvents: Gauge;
  auditChainVerifiedAt: Gauge;
  webhookAttempts: Counter<'outcome'>;
  webhookLatency: Histogram;
  webhookGaveUp: Counter;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'glidepath_worker_' });
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers: [registry] });
  return {
    registry,
    auditChainValid: gauge('glidepath_audit_chain_valid', '1 if the last verification of the audit chain passed, 0 if it found a broken event'),
    auditChainEvents: gauge('glidepath_audit_chain_events_checked', 'Events checked by the last audit chain verification'),
    auditChainVerifiedAt: gauge('glidepath_audit_chain_verified_timestamp_seconds', 'When the audit chain was last verified'),
    webhookAttempts: new Counter({
      name: 'glidepath_webhook_attempts_total',
      help: 'Webhook delivery attempts, by outcome (delivered, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    webhookLatency: new Histogram({
      name: 'glidepath_webhook_attempt_duration_seconds',
      help: 'How long receivers took to answer a webhook delivery',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    webhookGaveUp: new Counter({
      name: 'glidepath_webhook_deliveries_failed_total',
      help: 'Webhook deliveries given up after the retry period',
      registers: [registry],
    }),
  };
}

function hasScrapeToken(req: IncomingMessage, token: string): boolean {
  const given = Buffer.from(/^bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The worker's /metrics listens on loopback unless GLIDEPATH_WORKER_METRICS_HOST says otherwise;
 * with GLIDEPATH_METRICS_TOKEN set it also wants that bearer token.
 */
export function serveMetrics(metrics: WorkerMetrics, host: string, port: number, token?: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics' && token && !hasScrapeToken(req, token)) {
      res.statusCode = 401;
      res.setHeader('www-authenticate', 'Bearer');
      res.end('{"error":{"code":"unauthorized","message":"send Authorization: Bearer <GLIDEPATH_METRICS_TOKEN>"}}');
    } else if (req.url === '/metrics') {
      res.setHeader('content-type', metrics.registry.contentType);
      res.end(await metrics.registry.metrics());
    } else if (req.url === '/livez') {
      res.end('{"status":"ok"}');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}
