import type { PrismaClient } from '@glidepath/db';
import { createRouterRegistry, haproxyRouterProvider, recordingRouterProvider, webhookRouterProvider } from '@glidepath/providers';
import { createRecordedEffectSink } from './recorded-effect.sink.ts';

/** The routers this worker can drive: HAProxy and signed webhooks; the recording router only outside production. */
export function createWorkerRouters(prisma: PrismaClient, options: { production: boolean }) {
  const real = [haproxyRouterProvider(), webhookRouterProvider()];
  const providers = options.production ? real : [...real, recordingRouterProvider()];
  return createRouterRegistry(providers, { recordingSink: createRecordedEffectSink(prisma) });
}
