import { JOB } from '@glidepath/core';
import { verifyAuditChain } from '@glidepath/db';
import { Type } from 'typebox';
import type { WorkerDeps } from '../worker-deps.ts';
import { defineJob } from './job-catalogue.ts';

export const VERIFY_AUDIT_CHAIN = JOB.verifyAuditChain;
const Payload = Type.Object({}, { additionalProperties: false });

/**
 * A break is written to the log itself (once per broken event), so it reaches the live stream and
 * webhook subscribers of "audit.chain-broken" like any other event.
 */
async function reportBrokenChain(deps: WorkerDeps, firstBroken: { seq: string; id: string; problem: string } | undefined, checked: number) {
  if (!firstBroken) return;
  const last = await deps.prisma.auditEvent.findFirst({ where: { action: 'audit.chain-broken' }, orderBy: { seq: 'desc' } });
  if ((last?.payload as { firstBroken?: { seq?: string } } | null)?.firstBroken?.seq === firstBroken.seq) return;
  await deps.audited(async (_tx, audit) =>
    audit({
      actor: { type: 'system', id: 'audit-verifier' },
      action: 'audit.chain-broken',
      subject: { type: 'audit', id: firstBroken.seq },
      payload: { firstBroken, checked },
      reason: firstBroken.problem,
    }),
  );
}

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
    else {
      log.error({ firstBroken: result.firstBroken, checked: result.checked }, 'AUDIT CHAIN BROKEN');
      await reportBrokenChain(deps, result.firstBroken, result.checked);
    }
    return result;
  },
});
