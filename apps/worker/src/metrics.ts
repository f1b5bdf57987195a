import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { ACTIVE_PHASES } from '@glidepath/core';
import type { PrismaClient } from '@glidepath/db';
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  auditChainValid: Gauge;
  auditChainEvents: Gauge;
  auditChainVerifiedAt: Gauge;
  webhookAttempts: Counter<'outcome'>;
  webhookLatency: Histogram;
  webhookGaveUp: Counter;
  transitions: Counter<'event' | 'to_phase'>;
  rollbacks: Counter<'cause'>;
  routerCalls: Histogram<'effect' | 'outcome'>;
  gateVerdicts: Counter<'gate' | 'outcome'>;
  gateDuration: Histogram<'gate'>;
  jobWait: Histogram<'job'>;
  drills: Counter<'outcome'>;
  drillTimeToRollback: Histogram;
}

/** What the scrape-time gauges read: releases from PostgreSQL, queue depth from Redis. */
export interface MetricSources {
  prisma: PrismaClient;
  queue: Queue;
}

export function createWorkerMetrics(sources?: MetricSources): WorkerMetrics {
  const registry = new Registry();
  if (sources) registerStateGauges(registry, sources);
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
    transitions: new Counter({
      name: 'glidepath_release_transitions_total',
      help: 'Release state changes committed, by the event that caused them and the phase they led to',
      labelNames: ['event', 'to_phase'],
      registers: [registry],
    }),
    rollbacks: new Counter({
      name: 'glidepath_release_rollbacks_total',
      help: 'Releases rolled back, by cause: verdict (a failing gate), command (someone asked), rejected (an approver said no)',
      labelNames: ['cause'],
      registers: [registry],
    }),
    routerCalls: new Histogram({
      name: 'glidepath_router_call_duration_seconds',
      help: 'Traffic router calls (set-weight, promote, rollback), by outcome (ok, error)',
      labelNames: ['effect', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    gateVerdicts: new Counter({
      name: 'glidepath_gate_verdicts_total',
      help: 'Gate verdicts (analysis, smoke, webhook) by outcome (pass, fail, inconclusive)',
      labelNames: ['gate', 'outcome'],
      registers: [registry],
    }),
    gateDuration: new Histogram({
      name: 'glidepath_gate_duration_seconds',
      help: 'How long one gate run took (one look of an analysis, a smoke check, a webhook gate call)',
      labelNames: ['gate'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    drills: new Counter({
      name: 'glidepath_drills_total',
      help: 'Rollback drills ended, by outcome (succeeded, failed); slow ones count again as slow',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    drillTimeToRollback: new Histogram({
      name: 'glidepath_drill_time_to_rollback_seconds',
      help: "A drill's time from the rollback decision to the router confirming all traffic back",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    jobWait: new Histogram({
      name: 'glidepath_job_wait_seconds',
      help: 'From when a job was due to when a worker started it, by job name',
      labelNames: ['job'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    }),
  };
}

/** Gauges read when Prometheus scrapes: releases by phase, each active release's canary weight, queue depth. */
function registerStateGauges(registry: Registry, { prisma, queue }: MetricSources) {
  new Gauge({
    name: 'glidepath_releases',
    help: 'Releases by phase',
    labelNames: ['phase'],
    registers: [registry],
    async collect() {
      const rows = await prisma.release.groupBy({ by: ['phase'], _count: { _all: true } });
      this.reset();
      for (const row of rows) this.set({ phase: row.phase }, row._count._all);
    },
  });
  new Gauge({
    name: 'glidepath_release_canary_weight',
    help: 'The canary weight (percent of traffic) of every release that has not ended',
    labelNames: ['release_id', 'service', 'environment'],
    registers: [registry],
    async collect() {
      const rows = await prisma.$queryRaw<Array<{ id: string; service: string; environment: string; weight: number | null }>>`
        SELECT r.id::text, s.name AS service, e.name AS environment, (r.state->>'canaryWeight')::float AS weight
          FROM release r JOIN service s ON s.id = r.service_id JOIN environment e ON e.id = r.environment_id
         WHERE r.phase = ANY(${ACTIVE_PHASES as string[]})`;
      this.reset();
      for (const r of rows) this.set({ release_id: r.id, service: r.service, environment: r.environment }, r.weight ?? 0);
    },
  });
  new Gauge({
    name: 'glidepath_queue_jobs',
    help: 'Jobs in the queue by state (waiting, delayed, active, failed, prioritized)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'prioritized');
      for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
    },
  });
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
export function serveMetrics(
  metrics: WorkerMetrics,
  host: string,
  port: number,
  token?: string,
  ready: () => Promise<Record<string, boolean>> = async () => ({}),
): Promise<Server> {
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
    } else if (req.url === '/readyz') {
      // PostgreSQL and Redis answer: this worker can take jobs.
      const checks = await ready().catch(() => ({ checks: false }));
      const ok = Object.values(checks).every(Boolean);
      res.statusCode = ok ? 200 : 503;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', checks }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}
