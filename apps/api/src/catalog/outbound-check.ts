import type { OutboundTarget } from '@glidepath/core';
import type { Egress } from '@glidepath/providers';
import { AppError } from '../http/app-error.ts';

/** A place a registered document makes Glidepath call, and the request field that names it. */
export interface NamedDestination {
  field: string;
  target: OutboundTarget;
}

/**
 * Registration's side of the network policy: a URL, address or socket the policy refuses is a
 * 400 naming each field and why, rather than a release that fails later. The worker checks
 * again at every call (DNS answers change, and so can the policy).
 */
export async function refuseDeniedDestinations(
  egress: Pick<Egress, 'check'>,
  destinations: NamedDestination[],
  otherProblems: Array<{ field: string; problem: string }> = [],
): Promise<void> {
  const decisions = await Promise.all(destinations.map(async (d) => ({ field: d.field, decision: await egress.check(d.target) })));
  const details = [
    ...otherProblems,
    ...decisions.flatMap(({ field, decision }) => (decision.allowed ? [] : [{ field, problem: `is refused by the network policy: ${decision.reason}` }])),
  ];
  if (details.length) throw new AppError('validation_failed', details.map((d) => `${d.field}: ${d.problem}`).join('; '), details);
}
