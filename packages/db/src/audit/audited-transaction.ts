import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { EventBus } from '../events/event-bus.ts';
import { appendAuditEvent, auditEventJson, type AuditEvent, type AuditInput } from './audit-log.ts';

export type Audit = (input: AuditInput) => Promise<AuditEvent>;
export interface TransactionTiming {
  /** ms to wait for a pooled connection */
  maxWait?: number;
  /** ms the whole transaction may take */
  timeout?: number;
}
export type AuditedTransaction = <T>(work: (tx: Prisma.TransactionClient, audit: Audit) => Promise<T>, timing?: TransactionTiming) => Promise<T>;

/**
 * The one way services change state: the change and its audit events commit together, and
 * only after the commit are the events announced on the live stream.
 */
export function createAuditedTransaction(prisma: PrismaClient, bus: EventBus, onPublishError: (error: Error) => void): AuditedTransaction {
  return async (work, timing) => {
    const events: AuditEvent[] = [];
    const result = await prisma.$transaction(
      async (tx) =>
        work(tx, async (input) => {
          const event = await appendAuditEvent(tx, input);
          events.push(event);
          return event;
        }),
      timing,
    );
    for (const event of events) {
      await bus.publish({ type: 'audit.appended', data: auditEventJson(event) }).catch(onPublishError);
    }
    return result;
  };
}
