/** A receiver's answer about one deployment or removal, as the protocol (README.md) defines it. */
export interface ReceiverAnswer {
  state: 'pending' | 'ready' | 'failed' | 'removed' | 'unknown';
  id?: string | null;
  digest?: string | null;
  reason?: string | null;
}

export type Verdict = { verdict: 'pending' } | { verdict: 'ready'; digest: string } | { verdict: 'removed' } | { verdict: 'failed'; reason: string };

const STATES = new Set(['pending', 'ready', 'failed', 'removed']);
const MAX_TEXT = 500;

/**
 * A 2xx answer's body: empty (accepted, ask later), or a JSON object with a known `state`.
 * Anything else is a receiver that does not speak the protocol.
 */
export function parseAnswer(status: number, body: string): { answer: ReceiverAnswer } | { malformed: string } {
  if (status === 404) return { answer: { state: 'unknown' } };
  if (body.trim() === '') return status === 202 || status === 204 ? { answer: { state: 'pending' } } : { malformed: `answered HTTP ${status} with no body` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { malformed: `answered HTTP ${status} with a body that is not JSON: ${JSON.stringify(body.slice(0, 120))}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { malformed: `answered HTTP ${status} with JSON that is not an object` };
  const { state, id, digest, reason } = parsed as Record<string, unknown>;
  if (typeof state !== 'string' || !STATES.has(state)) {
    return { malformed: `answered HTTP ${status} with state ${JSON.stringify(state)}; expected pending, ready, failed or removed` };
  }
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, MAX_TEXT) : null);
  return { answer: { state: state as ReceiverAnswer['state'], id: text(id), digest: text(digest), reason: text(reason) } };
}

function describe(answer: ReceiverAnswer): string {
  if (answer.state === 'ready') return `ready (${answer.digest ?? 'no digest'})`;
  if (answer.state === 'failed') return `failed (${answer.reason ?? 'no reason given'})`;
  return answer.state;
}

function sameAnswer(a: ReceiverAnswer, b: ReceiverAnswer): boolean {
  return a.state === b.state && (a.state !== 'ready' || a.digest === b.digest);
}

/**
 * What a run of answers about one operation amounts to. The first terminal answer (ready,
 * failed, removed) is final; any later answer that differs from it means the receiver is broken,
 * and the operation fails with both answers as the reason. A deploy reported ready with another
 * digest than the one asked, or without one, fails; so does an answer about another operation,
 * or one that no longer knows an operation it accepted.
 */
export function judgeAnswers(asked: { action: 'deploy'; id: string; digest: string } | { action: 'remove'; id: string }, answers: ReceiverAnswer[]): Verdict {
  let first: ReceiverAnswer | null = null;
  for (const answer of answers) {
    if (answer.id && answer.id !== asked.id) return { verdict: 'failed', reason: `the receiver answered about ${answer.id} when asked about ${asked.id}` };
    if (first) {
      if (!sameAnswer(first, answer)) {
        return { verdict: 'failed', reason: `contradictory answers from the receiver: first ${describe(first)}, then ${describe(answer)}` };
      }
      continue;
    }
    if (answer.state === 'unknown') return { verdict: 'failed', reason: `the receiver no longer knows ${asked.id}, which it accepted` };
    if (answer.state === 'pending') continue;
    first = answer;
  }
  if (!first) return { verdict: 'pending' };
  if (first.state === 'failed') return { verdict: 'failed', reason: `the receiver reported failure: ${first.reason ?? 'no reason given'}` };
  if (asked.action === 'remove') {
    return first.state === 'removed' ? { verdict: 'removed' } : { verdict: 'failed', reason: `the receiver answered ${describe(first)} to a removal` };
  }
  if (first.state !== 'ready') return { verdict: 'failed', reason: `the receiver answered ${describe(first)} to a deploy` };
  if (!first.digest) return { verdict: 'failed', reason: `the receiver reported ready without a digest (asked ${asked.digest})` };
  if (first.digest !== asked.digest) return { verdict: 'failed', reason: `the receiver reported digest ${first.digest}, asked ${asked.digest}` };
  return { verdict: 'ready', digest: first.digest };
}
