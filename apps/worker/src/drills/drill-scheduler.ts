import { drillDueAt } from '@glidepath/core';
import { scheduledDrillEnvironments, scheduledDrillSettled, startDrill, type AuditedTransaction, type JobQueue, type PrismaClient } from '@glidepath/db';
import type { Logger } from 'pino';

/**
 * Runs each environment's rollback drills on its schedule. Due times come from PostgreSQL alone
 * (the schedule's start and interval), so a worker that was down for a while runs one drill for
 * the latest due time, and several workers make each drill once (one row per environment and due
 * time). A drill that cannot start yet (a release in flight, a freeze) waits, with why, and is tried
 * again each round until the next due time replaces it.
 */
export function startDrillScheduler(deps: { prisma: PrismaClient; audited: AuditedTransaction; jobs: JobQueue; log: Logger }, everyMs: number) {
  let running = false;
  const round = async () => {
    if (running) return;
    running = true;
    try {
      const now = Date.now();
      for (const { id, schedule } of await scheduledDrillEnvironments(deps.prisma)) {
        const due = drillDueAt(schedule, now);
        if (due === null || (await scheduledDrillSettled(deps.prisma, id, new Date(due)))) continue;
        const outcome = await startDrill(
          deps,
          { trigger: 'schedule', environmentId: id, dueAt: new Date(due), nextDueAt: new Date(due + schedule.everyMs) },
          now,
        );
        if (outcome.ok) deps.log.info({ environmentId: id, drillId: outcome.drill.id, releaseId: outcome.drill.releaseId }, 'scheduled drill started');
      }
    } catch (error) {
      deps.log.warn({ err: error }, 'drill schedule round failed; the next round tries again');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void round(), everyMs);
  void round();
  return {
    async stop() {
      clearInterval(timer);
      while (running) await new Promise((r) => setTimeout(r, 20));
    },
  };
}
