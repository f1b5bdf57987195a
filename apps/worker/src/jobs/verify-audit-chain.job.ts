import { verifyAuditChain, type PrismaClient } from '@glidepath/db';
import { Type } from 'typebox';
import type { WorkerMetrics } from '../metrics.ts';
import { defineJob } from './job-catalogue.ts';

export const VERIFY_AUDIT_CHAIN = 'audit.verify-chain';

/** Periodic tamper check of the audit log; the result is logged and exported as metrics. */
export const verifyAuditChainJob = defineJob({
  name: VERIFY_AUDIT_CHAIN,
  payload: Type.Object({}, { additionalProperties: false }),
  async handle(_payload, { log, deps }: { log: import('pino').Logger; deps: { prisma: PrismaClient; metrics: WorkerMetrics } }) {
    const result = await verifyAuditChain(deps.prisma);
    deps.metrics.auditChainValid.set(result.ok ? 1 : 0);
    deps.metrics.auditChainEvents.set(result.checked);
    deps.metrics.auditChainVerifiedAt.set(Date.now() / 1000);
    if (result.ok) log.info({ checked: result.checked }, 'audit chain verified');
    else log.error({ firstBroken: result.firstBroken, checked: result.checked }, 'AUDIT CHAIN BROKEN');
    return result;
  },
});
