import { createServer, type Server } from 'node:http';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  auditChainValid: Gauge;
  auditChainEvents: Gauge;
  auditChainVerifiedAt: Gauge;
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
  };
}

export function serveMetrics(metrics: WorkerMetrics, host: string, port: number): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
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
