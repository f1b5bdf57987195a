import type { PrismaClient } from '@glidepath/db';
import {
  createRouterRegistry,
  haproxyRouterProvider,
  recordingRouterProvider,
  webhookRouterProvider,
  type Egress,
  type RecordingSink,
} from '@glidepath/providers';
import { createRecordedEffectSink } from './recorded-effect.sink.ts';

/** The routers this worker can drive: HAProxy and signed webhooks; the recording router only outside production. */
export function createWorkerRouters(prisma: PrismaClient, options: { production: boolean; egress: Egress }) {
  const real = [haproxyRouterProvider(), webhookRouterProvider()];
  const providers = options.production ? real : [...real, recordingRouterProvider()];
  return createRouterRegistry<{ recordingSink: RecordingSink; egress: Egress }>(providers, {
    recordingSink: createRecordedEffectSink(prisma),
    egress: options.egress,
  });
}
