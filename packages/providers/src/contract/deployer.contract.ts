import { randomBytes } from 'node:crypto';
import type { Deployer, DeployOutcome, DeployRequest, RemoveRequest } from '@glidepath/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Ways the system behind a deployer goes wrong; a deploy against any of them must fail with why, never succeed. */
export type Misbehaviour = 'never-answers' | 'answers-twice' | 'wrong-digest' | 'never-healthy';

export interface DeployerUnderTest {
  deployer: Deployer;
  /** A second deployer on the same system and state, as a replacement worker would create. */
  replacement(): Promise<Deployer>;
  /** The digest the slot serves now, seen from outside the deployer (its health endpoint, its files); null when none. */
  observe(slot: string): Promise<string | null>;
  /** How many times the system behind the deployer really carried out the operation with this id. */
  performed(id: string): Promise<number>;
  /** A slot on which deploying takes the system a while (at least 300 ms), to be cut off mid-way. */
  slowSlot: string;
  /** false for deployers that keep no record (none): status() then answers unknown. */
  tracksStatus?: boolean;
  /** A deployer whose system misbehaves in that way, with timeouts short enough for a test; absent where the kind has no such system. */
  misbehaving: Partial<Record<Misbehaviour, () => Promise<Deployer>>>;
  /** Largest time a misbehaving deploy may take to fail; default 15 s. */
  failWithinMs?: number;
  /** Stops what setup started. The contract closes the deployers it was given. */
  teardown(): Promise<void>;
}

const REASONS: Record<Misbehaviour, RegExp> = {
  'never-answers': /no answer|did not finish|did not take|deadline|within \d+ ms/i,
  'answers-twice': /contradictory|and then/i,
  'wrong-digest': /sha256:[0-9a-f]{64}.*sha256:[0-9a-f]{64}/,
  'never-healthy': /health check/i,
};

export const digestOf = (seed: string) => `sha256:${Buffer.from(seed.padEnd(32, '.').slice(0, 32)).toString('hex')}`;

/**
 * What every deployer owes the release engine, run against the real system behind it: deploy
 * puts the digest on the slot and says ready only then, once per idempotency key however often
 * it is asked and by whichever worker, remove takes it off, and every misbehaviour of the
 * system ends in a failure whose reason says what happened.
 */
export function describeDeployerContract(name: string, setup: () => Promise<DeployerUnderTest>): void {
  describe(`deployer contract: ${name}`, () => {
    let sut: DeployerUnderTest | undefined;
    const opened: Deployer[] = [];
    const run = randomBytes(4).toString('hex');
    let n = 0;
    const current = () => {
      if (!sut) throw new Error(`the setup of the "${name}" deployer contract failed; see the beforeAll error`);
      return sut;
    };
    const request = (slot: string, seed: string, id = `dep-${run}-${++n}`): DeployRequest => ({
      deploymentId: id,
      releaseId: `rel-${run}`,
      environmentId: 'env-contract',
      slot,
      artifact: {
        service: 'checkout',
        version: `1.${n}.0`,
        digest: digestOf(`${run}-${seed}`),
        commitSha: 'c0ffee',
        buildUrl: 'https://ci.example.com/build/1',
      },
    });
    const removal = (slot: string, id = `rm-${run}-${++n}`): RemoveRequest => ({
      removalId: id,
      releaseId: `rel-${run}`,
      environmentId: 'env-contract',
      service: 'checkout',
      slot,
    });
    const expectReady = (outcome: DeployOutcome, digest: string) => {
      expect(outcome, JSON.stringify(outcome).slice(0, 2000)).toMatchObject({ state: 'ready', digest });
    };

    beforeAll(async () => {
      sut = await setup();
    });
    afterAll(async () => {
      if (!sut) return;
      try {
        await Promise.all([sut.deployer, ...opened].map((d) => d.close()));
      } finally {
        await sut.teardown();
      }
    });

    it('names its type', () => {
      expect(current().deployer.type).toMatch(/^[a-z][a-z0-9-]*$/);
    });

    it('deploys the digest on the slot and says ready only with that digest', async () => {
      const { deployer, observe, performed, tracksStatus = true } = current();
      const asked = request('blue', 'first');
      const outcome = await deployer.deploy(asked);
      expectReady(outcome, asked.artifact.digest);
      expect(outcome.evidence).toBeTypeOf('object');
      expect(await observe('blue')).toBe(asked.artifact.digest);
      expect(await performed(asked.deploymentId)).toBe(1);
      const byId = await deployer.status({ slot: 'blue', deploymentId: asked.deploymentId });
      const bySlot = await deployer.status({ slot: 'blue' });
      if (tracksStatus) {
        expect(byId).toMatchObject({ state: 'ready', digest: asked.artifact.digest, deploymentId: asked.deploymentId, slot: 'blue' });
        expect(bySlot).toMatchObject({ state: 'ready', digest: asked.artifact.digest, slot: 'blue' });
      } else {
        expect(byId.state).toBe('unknown');
      }
    });

    it('keeps slots apart, and a new deployment replaces what a slot had', async () => {
      const { deployer, observe } = current();
      const blue = request('blue', 'blue-1');
      const green = request('green', 'green-1');
      expectReady(await deployer.deploy(blue), blue.artifact.digest);
      expectReady(await deployer.deploy(green), green.artifact.digest);
      const next = request('blue', 'blue-2');
      expectReady(await deployer.deploy(next), next.artifact.digest);
      expect(await observe('blue')).toBe(next.artifact.digest);
      expect(await observe('green')).toBe(green.artifact.digest);
    });

    it('deploys once per deploymentId, asked again in turn or at the same time', async () => {
      const { deployer, performed, observe } = current();
      const asked = request('green', 'twice');
      expectReady(await deployer.deploy(asked), asked.artifact.digest);
      expectReady(await deployer.deploy(asked), asked.artifact.digest);
      expect(await performed(asked.deploymentId)).toBe(1);
      const together = request('blue', 'together');
      const outcomes = await Promise.all([deployer.deploy(together), deployer.deploy(together), deployer.deploy(together)]);
      for (const outcome of outcomes) expectReady(outcome, together.artifact.digest);
      expect(await performed(together.deploymentId)).toBe(1);
      expect(await observe('blue')).toBe(together.artifact.digest);
    });

    it('a deploy cut off mid-way is finished by a replacement without deploying twice', async () => {
      const { deployer, replacement, performed, observe, slowSlot } = current();
      const asked = request(slowSlot, 'cut-off');
      const stop = new AbortController();
      const first = deployer.deploy(asked, { signal: stop.signal }).then(
        (outcome) => ({ outcome }),
        (error: Error) => ({ error }),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      stop.abort(new Error('worker stopping'));
      const cut = await first;
      // Stopping the wait is not the deployment's failure: the call rejects, or had already ended ready.
      if ('outcome' in cut) expectReady(cut.outcome, asked.artifact.digest);
      const next = await replacement();
      opened.push(next);
      expectReady(await next.deploy(asked), asked.artifact.digest);
      expect(await performed(asked.deploymentId)).toBe(1);
      expect(await observe(slowSlot)).toBe(asked.artifact.digest);
    });

    it('removes what a slot has, once per removalId', async () => {
      const { deployer, observe, performed, tracksStatus = true } = current();
      const asked = request('green', 'to-remove');
      expectReady(await deployer.deploy(asked), asked.artifact.digest);
      const remove = removal('green');
      expect(await deployer.remove(remove)).toMatchObject({ state: 'removed' });
      expect(await deployer.remove(remove)).toMatchObject({ state: 'removed' });
      expect(await observe('green')).toBeNull();
      if (tracksStatus) {
        expect(await performed(remove.removalId)).toBe(1);
        expect(['removed', 'unknown']).toContain((await deployer.status({ slot: 'green' })).state);
      }
    });

    it('says unknown for a deployment it never saw', async () => {
      const status = await current().deployer.status({ slot: 'blue', deploymentId: `never-${run}` });
      expect(status).toMatchObject({ state: 'unknown', digest: null });
    });

    it('refuses a request it cannot run as an outcome naming the field, deploying nothing', async () => {
      const { deployer, performed } = current();
      const badDigest = { ...request('blue', 'bad'), artifact: { ...request('blue', 'bad').artifact, digest: 'sha256:NOT-A-DIGEST' } };
      const badSlot = request('../etc', 'bad-slot');
      const badId = request('blue', 'bad-id', 'has spaces\nand a newline');
      for (const [asked, field] of [
        [badDigest, /digest/],
        [badSlot, /slot/],
        [badId, /deploymentId/],
      ] as const) {
        const outcome = await deployer.deploy(asked);
        expect(outcome.state).toBe('failed');
        if (outcome.state === 'failed') expect(outcome.reason).toMatch(field);
        expect(await performed(asked.deploymentId)).toBe(0);
      }
      const remove = await deployer.remove({ ...removal('blue'), slot: 'a/b' });
      expect(remove.state).toBe('failed');
    });

    describe('misbehaving systems fail the deploy with the reason, never succeed', () => {
      for (const kind of Object.keys(REASONS) as Misbehaviour[]) {
        it(kind, async (ctx) => {
          const make = current().misbehaving[kind];
          if (!make) return ctx.skip();
          const deployer = await make();
          opened.push(deployer);
          const asked = request('blue', kind);
          const started = Date.now();
          const outcome = await deployer.deploy(asked);
          expect(outcome.state, JSON.stringify(outcome).slice(0, 2000)).toBe('failed');
          if (outcome.state === 'failed') {
            expect(outcome.reason).toMatch(REASONS[kind]);
            if (kind === 'wrong-digest') expect(outcome.reason).toContain(asked.artifact.digest);
            expect(outcome.evidence).toBeTypeOf('object');
          }
          expect(Date.now() - started).toBeLessThan(current().failWithinMs ?? 15_000);
        });
      }
    });
  });
}
