import { ACTIVE_PHASES, GATE_TYPES } from '@glidepath/core';
import type { JobQueue, PrismaClient } from '@glidepath/db';
import type { Logger } from 'pino';

/**
 * Every state lives in PostgreSQL and Redis keeps nothing on disk, so queued jobs can be lost
 * (Redis restarted, flushed). The sweeper re-derives the work from the database: releases
 * with unprocessed events or a due wake-up get a reconcile, running gates get their job.
 * Job ids are deterministic per round, so several workers sweeping at once add each job once.
 */
export function startReleaseSweeper(deps: { prisma: PrismaClient; jobs: JobQueue; log: Logger; onSweep?: () => Promise<void> }, everyMs: number) {
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      const round = Math.floor(Date.now() / everyMs);
      // Only work overdue by a whole round: younger work still has its own job in the queue,
      // and a duplicate per round would pile up when the worker falls behind.
      const grace = `${everyMs} milliseconds`;
      const due = await deps.prisma.$queryRaw<Array<{ id: string }>>`
        SELECT r.id FROM release r
        WHERE r.phase = ANY(${ACTIVE_PHASES as string[]})
          AND (r.wake_at <= now() - ${grace}::interval
               OR EXISTS (SELECT 1 FROM release_inbox i WHERE i.release_id = r.id AND i.processed_at IS NULL AND i.created_at <= now() - ${grace}::interval))`;
      for (const { id } of due) await deps.jobs.reconcile(id, `sweep-${round}`);
      const gates = await deps.prisma.$queryRaw<Array<{ id: string; step_index: number; attempt: number }>>`
        SELECT id, step_index, (state->'steps'->step_index->>'attempt')::int AS attempt FROM release
        WHERE phase IN ('progressing', 'paused')
          AND state->'steps'->step_index->>'status' = 'running'
          AND state->'plan'->'steps'->step_index->>'type' = ANY(${GATE_TYPES as string[]})`;
      for (const gate of gates) await deps.jobs.runGate(gate.id, gate.step_index, gate.attempt);
      await deps.onSweep?.();
    } catch (error) {
      deps.log.warn({ err: error }, 'release sweep failed; next round will retry');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), everyMs);
  void sweep();
  return {
    stop: async () => {
      clearInterval(timer);
      while (running) await new Promise((r) => setTimeout(r, 20));
    },
  };
}
