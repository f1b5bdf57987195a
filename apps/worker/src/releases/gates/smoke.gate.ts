import { SMOKE_CHECK_TIMEOUT_MS as CHECK_TIMEOUT_MS, urlOnOrigin, type GateStep } from '@glidepath/core';
import type { Egress } from '@glidepath/providers';
import type { GateResult } from './webhook.gate.ts';

type SmokeStep = Extract<GateStep, { type: 'smoke' }>;

/**
 * HTTP checks against the environment: every check must pass in the same round; a failing
 * round is retried after retryDelay, up to `retries` times, then the gate fails with what
 * each check saw.
 */
export async function runSmokeGate(egress: Egress, step: SmokeStep, baseUrl: string): Promise<GateResult> {
  let rounds: Array<Array<{ path: string; ok: boolean; status?: number; ms: number; problem?: string }>> = [];
  for (let round = 0; round <= step.retries; round++) {
    if (round > 0) await new Promise((r) => setTimeout(r, step.retryDelayMs));
    const results = await Promise.all(step.checks.map((check) => runCheck(egress, check, baseUrl)));
    rounds = [...rounds, results];
    if (results.every((r) => r.ok))
      return { outcome: 'pass', summary: `smoke: ${results.length} check(s) passed against ${baseUrl}`, evidence: { baseUrl, rounds } };
  }
  const failed = rounds.at(-1)!.filter((r) => !r.ok);
  return {
    outcome: 'fail',
    summary: `smoke failed after ${rounds.length} round(s): ${failed.map((f) => `${f.path} ${f.problem}`).join('; ')}`,
    evidence: { baseUrl, rounds },
  };
}

async function runCheck(egress: Egress, check: SmokeStep['checks'][number], baseUrl: string) {
  const started = performance.now();
  // Plans saved before paths were checked may still hold //other-host/x: such a check never leaves the environment.
  const target = urlOnOrigin(baseUrl, check.path);
  if (!target.ok) return { path: check.path, ok: false, ms: 0, problem: target.reason };
  try {
    // Redirects are the check's answer (expectStatus may be a 3xx), never followed elsewhere.
    const response = await egress.fetch(target.url, { signal: AbortSignal.timeout(check.maxLatencyMs ?? CHECK_TIMEOUT_MS), redirect: 'manual' });
    const body = await response.text();
    const ms = Math.round(performance.now() - started);
    const problem =
      response.status !== check.expectStatus
        ? `answered ${response.status}, expected ${check.expectStatus}`
        : check.bodyContains !== null && !body.includes(check.bodyContains)
          ? `body does not contain "${check.bodyContains}"`
          : check.maxLatencyMs !== null && ms > check.maxLatencyMs
            ? `took ${ms} ms, more than ${check.maxLatencyMs} ms`
            : undefined;
    return { path: check.path, ok: !problem, status: response.status, ms, problem };
  } catch (error) {
    const ms = Math.round(performance.now() - started);
    const timedOut = (error as Error).name === 'TimeoutError';
    return { path: check.path, ok: false, ms, problem: timedOut ? `no answer within ${check.maxLatencyMs ?? CHECK_TIMEOUT_MS} ms` : (error as Error).message };
  }
}
