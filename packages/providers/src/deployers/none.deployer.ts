import type { Deployer, DeployerProvider } from '@glidepath/core';
import { Type, type Static } from 'typebox';
import type { Egress } from '../network/egress.ts';
import { configChecker } from '../registry/check-config.ts';
import { deadlineFor, deployRequestProblem, removeRequestProblem, slotProblem } from './deploy-request.ts';
import { healthBudgetMs, healthCheckDestinations, healthCheckProblems, HealthCheckSchema, waitUntilHealthy } from './health-check.ts';

const NoneDeployerSchema = Type.Object(
  {
    healthCheck: Type.Optional(HealthCheckSchema),
  },
  { additionalProperties: false },
);
export type NoneDeployerConfig = Static<typeof NoneDeployerSchema>;

const checkSchema = configChecker(NoneDeployerSchema);

/**
 * For teams whose CI deploys by itself: Glidepath puts nothing anywhere. Without a health check
 * a deploy is ready at once; with one, Glidepath waits until the slot serves the digest (so a CI
 * that has not deployed yet, or deployed something else, fails the release instead of passing it).
 */
export function noneDeployerProvider(): DeployerProvider<NoneDeployerConfig, { egress: Egress }> {
  return {
    type: 'none',
    validateConfig(config) {
      const check = checkSchema(config);
      if (!check.ok) return check;
      const problems = healthCheckProblems(check.config.healthCheck);
      return problems.length ? { ok: false, problems } : check;
    },
    destinations: (config) => healthCheckDestinations(config.healthCheck),
    create: (config, { egress }) => createNoneDeployer(config, egress),
  };
}

export function createNoneDeployer(config: NoneDeployerConfig, egress: Egress): Deployer {
  const closing = new AbortController();
  return {
    type: 'none',
    async deploy(request, options) {
      const base = { deployer: 'none', deploymentId: request.deploymentId, slot: request.slot, digest: request.artifact?.digest };
      const problem = deployRequestProblem(request);
      if (problem) return { state: 'failed', reason: `invalid deploy request: ${problem}`, evidence: base };
      if (!config.healthCheck) return { state: 'ready', digest: request.artifact.digest, evidence: { ...base, note: 'no deployer: CI deploys by itself' } };
      const signal = options?.signal ? AbortSignal.any([options.signal, closing.signal]) : closing.signal;
      const health = await waitUntilHealthy(
        egress,
        config.healthCheck,
        request.slot,
        request.artifact.digest,
        deadlineFor(healthBudgetMs(config.healthCheck), options),
        signal,
      );
      return health.ok
        ? { state: 'ready', digest: request.artifact.digest, evidence: { ...base, health: health.evidence } }
        : { state: 'failed', reason: health.reason, evidence: { ...base, health: health.evidence } };
    },
    // Nothing is recorded: what is on a slot is CI's to say.
    async status(query) {
      const problem = slotProblem(query.slot);
      return {
        state: 'unknown',
        slot: query.slot,
        deploymentId: query.deploymentId ?? null,
        digest: null,
        reason: problem ?? 'the none deployer keeps no record: CI deploys',
        evidence: { deployer: 'none' },
      };
    },
    async remove(request) {
      const problem = removeRequestProblem(request);
      if (problem) return { state: 'failed', reason: `invalid remove request: ${problem}`, evidence: { deployer: 'none' } };
      return { state: 'removed', evidence: { deployer: 'none', removalId: request.removalId, slot: request.slot, note: 'no deployer: nothing to remove' } };
    },
    close: async () => closing.abort(new Error('deployer closed')),
  };
}
