import type { GlidepathClient, Schemas } from '@glidepath/client';
import { describeNetworkError } from './api.ts';
import { CliError, EXIT, type ExitCode } from './exit-codes.ts';

type ReleaseDetail = Schemas['ReleaseDetail'];

/** Where waiting stops, and with which exit code. `failed` waits for a person: the pipeline has its answer. */
const FINAL: Record<string, ExitCode> = { succeeded: EXIT.ok, 'rolled-back': EXIT.failed, failed: EXIT.failed, aborted: EXIT.aborted };

export interface WaitOptions {
  timeoutMs: number;
  /** How often to ask; a change is seen within this. */
  pollMs?: number;
  /** Progress lines go here (stderr); nothing when undefined. */
  progress?: NodeJS.WriteStream;
}

/**
 * Follows a release until it ends. The API is the truth and is asked again and again, so a
 * restart of the API (or of the network) only delays the answer: errors are retried until the
 * timeout, and the final state is read from the API, never inferred.
 */
export async function waitForOutcome(
  api: GlidepathClient,
  id: string,
  { timeoutMs, pollMs = 250, progress }: WaitOptions,
): Promise<{ release: ReleaseDetail; code: ExitCode }> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const line = progressLine(progress, started);
  let last: ReleaseDetail | undefined;
  let outage: string | null = null;
  for (;;) {
    try {
      const { data, response } = await api.GET('/api/v1/releases/{id}', { params: { path: { id } }, signal: AbortSignal.timeout(10_000) });
      if (response.status === 404) throw new CliError(EXIT.refused, `release ${id} does not exist`);
      if (data) {
        if (outage) line(`connected again after: ${outage}`, true);
        outage = null;
        last = data;
        line(describe(data));
        const code = FINAL[data.phase];
        if (code !== undefined) {
          line(describe(data), true);
          return { release: data, code };
        }
      } else if (response.status >= 500) outage = `Glidepath answered ${response.status}`;
      else if (response.status === 401 || response.status === 403)
        throw new CliError(EXIT.refused, `release ${id}: ${response.status} (check GLIDEPATH_TOKEN)`);
    } catch (error) {
      if (error instanceof CliError) throw error;
      outage = `cannot reach Glidepath (${describeNetworkError(error)}), retrying`;
      line(outage);
    }
    if (Date.now() >= deadline)
      throw new CliError(
        EXIT.timedOut,
        `gave up waiting after ${Math.round(timeoutMs / 1000)}s; release ${id} is ${last ? last.phase : 'unknown'}${outage ? ` (${outage})` : ''} and goes on`,
      );
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }
}

/** "progressing · step 2/5 analysis · canary 10% · verdict pass: errors 1.9% vs 2.0%" */
export function describe(r: ReleaseDetail): string {
  const steps = r.steps.length;
  const step = r.steps[r.stepIndex];
  const parts: string[] = [r.phase];
  if (steps) parts.push(`step ${Math.min(r.stepIndex + 1, steps)}/${steps}${step?.spec?.type ? ` ${step.spec.type}` : ''}`);
  parts.push(`canary ${r.canaryWeight}%`);
  const look = r.measurements.at(-1);
  if (look) parts.push(`verdict ${look.outcome}${summary(look.verdict)}`);
  if (r.reason && r.phase !== 'progressing') parts.push(r.reason);
  return parts.join(' · ');
}

/** The judge's own words for its latest look ("canary error rate 1.9% vs baseline 2.0%…"). */
function summary(verdict: unknown): string {
  const reason = (verdict as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' && reason ? `: ${reason}` : '';
}

/** On a terminal one line updates in place; elsewhere (CI logs) each change is a line of its own. */
function progressLine(stream: NodeJS.WriteStream | undefined, started: number) {
  let previous = '';
  return (text: string, final = false) => {
    if (!stream) return;
    const stamped = `[${Math.round((Date.now() - started) / 1000)}s] ${text}`;
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${stamped}${final ? '\n' : ''}`);
      return;
    }
    if (text === previous && !final) return;
    if (text !== previous) stream.write(`${stamped}\n`);
    previous = text;
  };
}
