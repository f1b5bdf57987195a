import { webhookBackoffMs, type GateStep } from '@glidepath/core';
import { isEgressDenied, standardWebhookHeaders, type Egress } from '@glidepath/providers';

export interface GateResult {
  outcome: 'pass' | 'fail' | 'inconclusive';
  summary: string;
  evidence: unknown;
}

/**
 * Asks an external system for a verdict. 2xx passes unless the body says
 * `{"verdict":"fail"}`; timeouts and other statuses are retried with backoff and then
 * fail the gate: an unanswered gate never counts as a pass. With a signing secret every request
 * is signed as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), so the
 * receiver can tell Glidepath's calls from anyone else's; `id` stays the same across retries.
 */
export async function runWebhookGate(
  egress: Egress,
  step: Extract<GateStep, { type: 'webhook' }>,
  payload: unknown,
  signing?: { secret: string; id: string },
): Promise<GateResult> {
  const body = JSON.stringify(payload);
  const attempts: Array<{ status?: number; error?: string; ms: number }> = [];
  for (let attempt = 0; attempt <= step.retries; attempt++) {
    // The same backoff plan validation counts when it checks that the whole run fits (gateRunMs).
    if (attempt > 0) await new Promise((r) => setTimeout(r, webhookBackoffMs(attempt)));
    const started = performance.now();
    try {
      // Redirects are followed as fetch does, each hop checked against the network policy.
      const response = await egress.fetch(step.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'glidepath-gate',
          ...(signing ? standardWebhookHeaders(signing.secret, signing.id, body) : {}),
        },
        body,
        signal: AbortSignal.timeout(step.timeoutMs),
      });
      const text = await response.text();
      attempts.push({ status: response.status, ms: Math.round(performance.now() - started) });
      if (!response.ok) continue;
      const verdict = parseVerdict(text);
      return {
        outcome: verdict.verdict === 'fail' ? 'fail' : 'pass',
        summary: `webhook gate ${step.url} answered ${verdict.verdict ?? 'pass'}${verdict.reason ? `: ${verdict.reason}` : ''}`,
        evidence: { url: step.url, attempts, verdict },
      };
    } catch (error) {
      attempts.push({
        error: (error as Error).name === 'TimeoutError' ? `no answer within ${step.timeoutMs} ms` : (error as Error).message,
        ms: Math.round(performance.now() - started),
      });
      // The policy answers the same on every retry: the gate fails now, with its reason.
      if (isEgressDenied(error))
        return { outcome: 'fail', summary: `webhook gate ${step.url} ${error.message}`, evidence: { url: step.url, attempts, denied: error.reason } };
    }
  }
  return { outcome: 'fail', summary: `webhook gate ${step.url} gave no verdict after ${attempts.length} attempt(s)`, evidence: { url: step.url, attempts } };
}

function parseVerdict(text: string): { verdict?: 'pass' | 'fail'; reason?: string } {
  try {
    const body = JSON.parse(text) as { verdict?: unknown; reason?: unknown };
    return {
      verdict: body.verdict === 'fail' ? 'fail' : body.verdict === 'pass' ? 'pass' : undefined,
      reason: typeof body.reason === 'string' ? body.reason : undefined,
    };
  } catch {
    return {};
  }
}
