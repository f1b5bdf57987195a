import type { EffectContext, TrafficRouter, TrafficTarget } from '@glidepath/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

export interface TrafficRouterUnderTest {
  router: TrafficRouter;
  target: TrafficTarget;
  /** The canary share (0–100) as the system behind the router actually applies it. */
  observeWeight(): Promise<number>;
  /** Stops what setup started. The contract closes the router itself before calling it. */
  teardown(): Promise<void>;
  /** Largest accepted |observed − asked|, in percentage points; default 1. */
  tolerance?: number;
}

/**
 * The behaviour every traffic router owes the release engine, run against the real thing
 * where it can run here. Every call is absolute and idempotent, so each test sets the state
 * it starts from and the routers under test can be shared by the whole suite.
 */
export function describeTrafficRouterContract(name: string, setup: () => Promise<TrafficRouterUnderTest>): void {
  describe(`traffic router contract: ${name}`, () => {
    let sut: TrafficRouterUnderTest | undefined;
    let calls = 0;
    // A fresh key per call, as the engine does for each effect; only a re-applied effect repeats one.
    const nextCtx = (): EffectContext => ({ effectKey: `contract-${name.replace(/[^A-Za-z0-9_-]/g, '_')}-${Date.now()}:${++calls}:0` });
    const current = () => {
      if (!sut) throw new Error(`the setup of the "${name}" router contract failed; see the beforeAll error`);
      return sut;
    };
    const expectObserved = async (canaryWeight: number) => {
      const { observeWeight, tolerance = 1 } = current();
      const observed = await observeWeight();
      expect(Math.abs(observed - canaryWeight), `observed canary ${observed}% where ${canaryWeight}% was asked`).toBeLessThanOrEqual(tolerance);
    };
    const expectVerified = async (canaryWeight: number, expected: boolean) => {
      const { router, target } = current();
      const verdict = await router.verifyWeight(target, canaryWeight);
      if (verdict !== 'unsupported') expect(verdict, `verifyWeight(${canaryWeight})`).toBe(expected);
    };

    beforeAll(async () => {
      sut = await setup();
    });
    afterAll(async () => {
      if (!sut) return;
      try {
        await sut.router.close();
      } finally {
        await sut.teardown();
      }
    });

    it('names its type', () => {
      expect(current().router.type).toMatch(/^[a-z][a-z0-9-]*$/);
    });

    it.each([0, 5, 25, 50, 100])('setWeight(%i) is what the system then applies', async (weight) => {
      const { router, target } = current();
      await router.setWeight(target, weight, nextCtx());
      await expectObserved(weight);
      await expectVerified(weight, true);
    });

    it('walks a whole plan up and back down', async () => {
      const { router, target } = current();
      for (const weight of [25, 50, 5, 0]) {
        await router.setWeight(target, weight, nextCtx());
        await expectObserved(weight);
      }
    });

    it('setWeight is idempotent, whether the same effect is re-applied or asked again', async () => {
      const { router, target } = current();
      await router.setWeight(target, 0, nextCtx());
      const ctx = nextCtx();
      await router.setWeight(target, 25, ctx);
      await router.setWeight(target, 25, ctx);
      await expectObserved(25);
      await router.setWeight(target, 25, nextCtx());
      await expectObserved(25);
      await expectVerified(25, true);
    });

    it('promote sends all traffic to the canary', async () => {
      const { router, target } = current();
      await router.setWeight(target, 25, nextCtx());
      await router.promote(target, nextCtx());
      await expectObserved(100);
      await expectVerified(100, true);
      await expectVerified(25, false);
    });

    it('rollback sends all traffic back to stable', async () => {
      const { router, target } = current();
      await router.setWeight(target, 25, nextCtx());
      await router.rollback(target, nextCtx());
      await expectObserved(0);
      await expectVerified(0, true);
      await expectVerified(25, false);
    });

    it('rollback after promote sends all traffic back to stable', async () => {
      const { router, target } = current();
      await router.promote(target, nextCtx());
      await router.rollback(target, nextCtx());
      await expectObserved(0);
    });

    it('promote and rollback are idempotent', async () => {
      const { router, target } = current();
      const promote = nextCtx();
      await router.promote(target, promote);
      await router.promote(target, promote);
      await expectObserved(100);
      const rollback = nextCtx();
      await router.rollback(target, rollback);
      await router.rollback(target, rollback);
      await router.rollback(target, nextCtx());
      await expectObserved(0);
    });

    it('verifyWeight tells the applied weight from others, or says it cannot tell', async () => {
      const { router, target } = current();
      await router.setWeight(target, 50, nextCtx());
      await expectVerified(50, true);
      await expectVerified(5, false);
      await expectVerified(0, false);
      await expectVerified(100, false);
    });
  });
}
