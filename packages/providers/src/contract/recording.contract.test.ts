import type { TrafficTarget } from '@glidepath/core';
import { recordingRouterProvider, type RecordedEffectEntry, type RecordingSink } from '../recording/recording.traffic-router.ts';
import { describeTrafficRouterContract } from './traffic-router.contract.ts';

/** Stands in for the PostgreSQL-backed sink of the worker. */
function memorySink(): RecordingSink & { entries: RecordedEffectEntry[] } {
  const entries: RecordedEffectEntry[] = [];
  return { entries, record: async (entry) => void entries.push(entry) };
}

/** What a real router would now apply, replaying the recorded effects in order. */
function replayedWeight(entries: RecordedEffectEntry[], releaseId: string): number {
  let weight = 0;
  for (const { effect } of entries.filter((e) => e.releaseId === releaseId)) {
    weight = effect.type === 'set-weight' ? effect.weight : effect.type === 'promote' ? 100 : 0;
  }
  return weight;
}

const target: TrafficTarget = {
  releaseId: 'rel-contract-recording',
  environmentId: 'env-contract',
  service: 'checkout',
  canary: { version: '1.1.0', digest: 'sha256:canary' },
  stable: { version: '1.0.0', digest: 'sha256:stable' },
};

describeTrafficRouterContract('recording (in-memory sink)', async () => {
  const sink = memorySink();
  const provider = recordingRouterProvider();
  const check = provider.validateConfig({ key: 'contract' });
  if (!check.ok) throw new Error(`recording config rejected: ${JSON.stringify(check.problems)}`);
  return {
    router: provider.create(check.config, { recordingSink: sink }),
    target,
    observeWeight: async () => replayedWeight(sink.entries, target.releaseId),
    teardown: async () => {},
    tolerance: 0,
  };
});
