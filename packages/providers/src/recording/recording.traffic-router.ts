import type { TrafficRouter, TrafficRouterProvider, TrafficTarget } from '@glidepath/core';
import { Type } from 'typebox';
import { configChecker } from '../registry/check-config.ts';

export interface RecordedEffectEntry {
  routerKey: string;
  releaseId: string;
  effectKey: string;
  effect: (
    | { type: 'set-weight'; weight: number }
    | { type: 'promote' }
    | { type: 'rollback' }
    | { type: 'set-instance-weights'; weights: Readonly<Record<string, number>> }
  ) & { slots?: { live: string; idle: string } };
}

/** Where the recording router writes; PostgreSQL in practice, so tests can read it back. */
export interface RecordingSink {
  record(entry: RecordedEffectEntry): Promise<void>;
}

const RecordingConfig = Type.Object(
  {
    key: Type.Optional(Type.String({ minLength: 1, description: 'label stored with each effect' })),
    /** Milliseconds each call takes, to stand in for a slow router in tests. */
    latencyMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

/**
 * A router that shifts nothing and records every effect it receives. For tests and local
 * development only: the worker registers it only outside production.
 */
export function recordingRouterProvider(): TrafficRouterProvider<{ key?: string; latencyMs?: number }, { recordingSink: RecordingSink }> {
  return {
    type: 'recording',
    validateConfig: configChecker(RecordingConfig),
    setsInstanceWeights: true,
    create(config, { recordingSink }): TrafficRouter {
      const record = async (target: TrafficTarget, effectKey: string, effect: RecordedEffectEntry['effect']) => {
        if (config.latencyMs) await new Promise((r) => setTimeout(r, config.latencyMs));
        // Which server is which, when slots alternate: the only way a test can tell live from idle.
        const entry = target.slots ? { ...effect, slots: target.slots } : effect;
        await recordingSink.record({ routerKey: config.key ?? 'recording', releaseId: target.releaseId, effectKey, effect: entry });
      };
      return {
        type: 'recording',
        setWeight: (target, weight, ctx) => record(target, ctx.effectKey, { type: 'set-weight', weight }),
        verifyWeight: async () => 'unsupported',
        promote: (target, ctx) => record(target, ctx.effectKey, { type: 'promote' }),
        rollback: (target, ctx) => record(target, ctx.effectKey, { type: 'rollback' }),
        setInstanceWeights: (target, weights, ctx) => record(target, ctx.effectKey, { type: 'set-instance-weights', weights }),
        close: async () => {},
      };
    },
  };
}
