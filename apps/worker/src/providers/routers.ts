import type { PrismaClient } from '@glidepath/db';
import { createRouterRegistry, recordingRouterProvider } from '@glidepath/providers';
import { createRecordedEffectSink } from './recorded-effect.sink.ts';

/** The routers this worker can drive. The recording router exists only outside production. */
export function createWorkerRouters(prisma: PrismaClient, options: { production: boolean }) {
  const providers = options.production ? [] : [recordingRouterProvider()];
  return createRouterRegistry(providers, { recordingSink: createRecordedEffectSink(prisma) });
}
