/// <reference lib="dom" />
import { randomBytes } from 'node:crypto';
import { expect, type Browser, type Page } from '@playwright/test';
import type { GlidepathClient, Schemas } from '@glidepath/client';
import { ok, signInAs } from '../../fixtures.ts';

// Shared set-up of the live tests (the stack with a worker): a service of its own per test.

type Step = Extract<Schemas['PlanSpec'], { strategy: 'canary' }>['steps'][number];
export const QUICK: Step[] = [{ type: 'setWeight', weight: 100 }];
/** Holds at 20% until someone acts: room for a rollback from the page. */
export const HOLD: Step[] = [{ type: 'setWeight', weight: 20 }, { type: 'pause' }, { type: 'setWeight', weight: 100 }];

export interface Seeded {
  service: string;
  plan: string;
  holdPlan: string;
  start: (environment: string, version: string, plan?: string) => Promise<string>;
  waitFor: (id: string, phases: string[]) => Promise<Schemas['ReleaseDetail']>;
}

/**
 * dev → staging → prod for a new service; prod is protected (two approvals from
 * prod-approvers) and, so a test can go straight there, needs nothing upstream.
 */
export async function seed(api: GlidepathClient): Promise<Seeded> {
  const suffix = randomBytes(4).toString('hex');
  const service = `live-${suffix}`;
  await ok(api.POST('/api/v1/services', { body: { name: service, description: 'e2e live service', owners: ['team-live'] } }), 'service');
  for (const [position, name] of ['dev', 'staging', 'prod'].entries())
    await ok(
      api.POST('/api/v1/environments', {
        body: {
          service,
          name,
          position,
          target: { type: 'recording', config: {} },
          ...(name === 'prod' && { requireUpstreamSuccess: false, policy: { protected: true, requiredApprovals: 2, approverGroup: 'prod-approvers' } }),
        },
      }),
      name,
    );
  await ok(api.POST('/api/v1/plans', { body: { name: `quick-${suffix}`, spec: { strategy: 'canary', steps: QUICK } } }), 'plan');
  await ok(api.POST('/api/v1/plans', { body: { name: `hold-${suffix}`, spec: { strategy: 'canary', steps: HOLD } } }), 'plan');
  for (const version of ['1.0.0', '1.1.0'])
    await ok(
      api.POST('/api/v1/artifacts', {
        body: {
          service,
          version,
          digest: `sha256:${randomBytes(32).toString('hex')}`,
          metadata: { modelVersion: `ranker-${version}`, dataset: 'clicks-2026-11' },
        },
      }),
      version,
    );
  const waitFor = async (id: string, phases: string[]) => {
    let release: Schemas['ReleaseDetail'] | undefined;
    await expect
      .poll(async () => (release = await ok(api.GET('/api/v1/releases/{id}', { params: { path: { id } } }), 'release'))?.phase, {
        timeout: 20_000,
        message: `release ${id} to reach ${phases.join(' or ')}`,
      })
      .toMatch(new RegExp(`^(${phases.join('|')})$`));
    return release!;
  };
  return {
    service,
    plan: `quick-${suffix}`,
    holdPlan: `hold-${suffix}`,
    start: async (environment, version, plan = `quick-${suffix}`) =>
      (await ok(api.POST('/api/v1/releases', { body: { service, environment, version, plan, reason: 'e2e live' } }), 'release')).id,
    waitFor,
  };
}

/** A page in a browser context of its own, signed in as one of the demo people. */
export async function personPage(browser: Browser, baseURL: string, login: string): Promise<Page> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signInAs(page, login);
  return page;
}

/** Every control a person can reach has a name a screen reader can say. */
export async function expectControlsLabelled(page: Page): Promise<void> {
  const unnamed = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('button, a[href], input, select, textarea, [role=meter]'))
      .filter((el) => {
        const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.getAttribute('title');
        const labels = (el as HTMLInputElement).labels;
        return !(labelled || (labels && labels.length > 0) || el.textContent?.trim());
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  expect(unnamed, 'controls without an accessible name').toEqual([]);
}
