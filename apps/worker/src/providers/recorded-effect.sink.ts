import type { PrismaClient } from '@glidepath/db';
import type { RecordingSink } from '@glidepath/providers';

/** Stores what the recording router receives, outside any release transaction: a real router would have applied it. */
export function createRecordedEffectSink(prisma: PrismaClient): RecordingSink {
  return {
    async record(entry) {
      await prisma.recordedEffect.create({ data: entry });
    },
  };
}
