import { appendAuditEvent } from '@glidepath/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERIFY_AUDIT_CHAIN } from './jobs/verify-audit-chain.job.ts';
import { startTestWorker } from './testing/test-worker.ts';
import type { RunningWorker } from './worker.ts';

let worker: RunningWorker;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ worker, stop } = await startTestWorker());
});
afterAll(() => stop());

describe('worker', () => {
  it('schedules the audit chain verification and exports its result as metrics', async () => {
    await worker.prisma.$transaction((tx) =>
      appendAuditEvent(tx, { actor: { type: 'system', id: 'test' }, action: 'test.event', subject: { type: 't', id: '1' } }),
    );
    const schedulers = await worker.jobs.queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain(VERIFY_AUDIT_CHAIN);
    const job = await worker.jobs.queue.add(VERIFY_AUDIT_CHAIN, {});
    await expect.poll(async () => (await worker.jobs.queue.getJob(job.id!))?.returnvalue, { timeout: 10_000 }).toEqual({ ok: true, checked: 1, lastSeq: '1' });
    const metrics = await (await fetch(worker.metricsUrl)).text();
    expect(metrics).toMatch(/^glidepath_audit_chain_valid 1$/m);
    expect(metrics).toMatch(/^glidepath_audit_chain_events_checked 1$/m);
  });

  it('answers /readyz when PostgreSQL and Redis do, and exports release, queue and job-wait metrics for alerts', async () => {
    const base = worker.metricsUrl.replace(/\/metrics$/, '');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { postgres: true, redis: true } });
    const metrics = await (await fetch(worker.metricsUrl)).text();
    for (const name of [
      'glidepath_releases',
      'glidepath_release_canary_weight',
      'glidepath_queue_jobs',
      'glidepath_job_wait_seconds',
      'glidepath_release_transitions_total',
      'glidepath_release_rollbacks_total',
      'glidepath_router_call_duration_seconds',
      'glidepath_gate_verdicts_total',
      'glidepath_webhook_attempts_total',
    ])
      expect(metrics).toContain(`# TYPE ${name} `);
    expect(metrics).toMatch(/^glidepath_queue_jobs\{state="waiting"\} \d+$/m);
    expect(metrics).toMatch(/^glidepath_job_wait_seconds_count\{job="audit.verify-chain"\} [1-9]/m);
  });

  it('fails jobs that are not in the catalogue or whose payload does not match', async () => {
    const unknown = await worker.jobs.queue.add('no.such.job', {});
    const bad = await worker.jobs.queue.add(VERIFY_AUDIT_CHAIN, { unexpected: 1 } as never);
    await expect.poll(async () => (await worker.jobs.queue.getJob(unknown.id!))?.failedReason, { timeout: 10_000 }).toMatch(/no job named "no.such.job"/);
    await expect.poll(async () => (await worker.jobs.queue.getJob(bad.id!))?.failedReason, { timeout: 10_000 }).toMatch(/invalid payload/);
  });
});
