import { JOB } from '@glidepath/core';
import { verifyAuditChain } from '@glidepath/db';
import { Type } from 'typebox';
import type { WorkerDeps } from '../worker-deps.ts';
import { defineJob } from './job-catalogue.ts';

export const VERIFY_AUDIT_CHAIN = JOB.verifyAuditChain;
const Payload = Type.Object({}, { additionalProperties: false });

/** Periodic tamper check of the audit log; the result is logged and exported as metrics. */
export const verifyAuditChainJob = defineJob<typeof Payload, WorkerDeps>({
  name: VERIFY_AUDIT_CHAIN,
  payload: Payload,
  async handle(_payload, { log, deps }) {
    const result = await verifyAuditChain(deps.prisma);
    deps.metrics.auditChainValid.set(result.ok ? 1 : 0);
    deps.metrics.auditChainEvents.set(result.checked);
    deps.metrics.auditChainVerifiedAt.set(Date.now() / 1000);
    if (result.ok) log.info({ checked: result.checked }, 'audit chain verified');
    else log.error({ firstBroken: result.firstBroken, checked: result.checked }, 'AUDIT CHAIN BROKEN');
    return result;
  },
});
