import {
  addTallies,
  differenceRates,
  emptyShadowTally,
  gateLeaseMs,
  latencyHistogram,
  mirrorSessionId,
  SHADOW_METRICS,
  SHADOW_TALLY_LIMITS,
  type GateStep,
  type MetricProvider,
  type ShadowStep,
  type ShadowTally,
  type SideMeasurement,
} from '@glidepath/core';
import { createMirrorClient, isEgressDenied, MirrorControlError, type Egress, type MirrorSessionView } from '@glidepath/providers';
import { lookAtAnalysis, type AnalysisDeps, type AnalysisLook } from './analysis.gate.ts';
import type { GateResult } from './webhook.gate.ts';

export interface ShadowDeps extends Omit<AnalysisDeps, 'metricSources'> {
  egress: Egress;
  log: { warn(obj: object, msg: string): void };
  /** The proxy's control token (GLIDEPATH_MIRROR_TOKEN), when it wants one. */
  mirrorToken?: string;
}

/**
 * One look of a shadow step. Opens the release's session on the mirroring proxy (or keeps it:
 * the same session id for every job of this step attempt, so a repeated or resumed job never
 * starts a second comparison), reads its tally, and judges it as an analysis step does, with the
 * proxy as the metrics source: canary = the shadow's answers, baseline = the live version's. At a
 * verdict it stops the session before answering. The session expires by itself at the step's
 * lease, so copying stops even when nobody is left to stop it.
 */
export async function lookAtShadow(deps: ShadowDeps, step: ShadowStep, look: AnalysisLook & { slot: string }, now: Date): Promise<GateResult | null> {
  const session = mirrorSessionId(look.releaseId, look.stepIndex, look.attempt);
  const client = createMirrorClient(deps.egress, step.mirrorUrl, { token: deps.mirrorToken });
  const expiresAt = new Date(look.stepStartedAt.getTime() + gateLeaseMs(step)).toISOString();
  // The last look's session start and counts: a session that started again means the proxy restarted.
  const previous = await deps.prisma.analysisMeasurement.findFirst({
    where: { releaseId: look.releaseId, stepIndex: look.stepIndex, attempt: look.attempt },
    orderBy: { seq: 'desc' },
    select: { verdict: true },
  });
  const before = continuityOf((previous?.verdict as { source?: unknown } | null)?.source);
  const provider: MetricProvider = {
    type: 'mirror',
    async measure() {
      let view: MirrorSessionView;
      try {
        view = await client.open({
          session,
          slot: look.slot,
          methods: step.methods,
          ignoreFields: step.ignoreFields,
          sampleRate: step.sampleRate,
          baselineShare: step.baselineShare,
          expiresAt,
        });
      } catch (error) {
        if (isEgressDenied(error)) throw error;
        // The session was stopped already: by this step's verdict when a worker died before posting it (the
        // verdict is posted after the stop), or at its expiry. The proxy keeps a stopped session's final
        // tally, and that is what there is to judge; opening it again is refused (409) and would be no data
        // at every look until the step's limit.
        const stopped = error instanceof MirrorControlError && error.status === 409 ? await client.read(session).catch(() => null) : null;
        // The proxy down or refusing: no data this look (never a verdict); the next look asks again, with what was counted so far.
        if (!stopped)
          return {
            noData: `the mirroring proxy did not take the session: ${(error as Error).message}`,
            source: { type: 'mirror', url: step.mirrorUrl, session, ...before },
          };
        view = stopped;
      }
      // A session that started again since the last look: the proxy restarted and lost its counts, so
      // what it had counted up to that look is carried, and the judge's counts never go down.
      const lost = before.startedAt !== undefined && before.startedAt !== view.startedAt && before.totals !== undefined;
      const carried = lost ? addTallies(before.carried ?? emptyShadowTally(), before.totals!) : before.carried;
      const tally = carried ? addTallies(carried, view.tally) : view.tally;
      const continuity = {
        startedAt: view.startedAt,
        totals: compact(view.tally),
        carried: carried ? compact(carried) : null,
        restarts: before.restarts + (lost ? 1 : 0),
      };
      return { ...measurementOf(tally), source: { ...sourceOf(step, { ...view, tally }), ...continuity } };
    },
    close: async () => {},
  };
  const analysis: Extract<GateStep, { type: 'analysis' }> = { ...step, type: 'analysis', watch: false };
  const result = await lookAtAnalysis(
    { ...deps, metricSources: { providerFor: () => provider } },
    analysis,
    { ...look, environment: { ...look.environment, metrics: { type: 'mirror', config: { url: step.mirrorUrl } } } },
    now,
  );
  if (result) await stopShadow(deps, step, session);
  return result;
}

/** Stops copying for a session; a proxy that does not answer is left to the session's expiry (logged). */
export async function stopShadow(deps: Pick<ShadowDeps, 'egress' | 'log' | 'mirrorToken'>, step: ShadowStep, session: string): Promise<void> {
  try {
    await createMirrorClient(deps.egress, step.mirrorUrl, { token: deps.mirrorToken }).stop(session);
  } catch (error) {
    deps.log.warn({ err: error, session }, 'could not stop the mirror session: it stops by itself at its expiry');
  }
}

interface Continuity {
  startedAt?: string;
  totals?: ShadowTally;
  carried?: ShadowTally | null;
  restarts: number;
}

/** What the last look stored to notice a restarted proxy: its session's start and counts, and what was carried before. */
function continuityOf(source: unknown): Continuity {
  const s = (source ?? {}) as Partial<Continuity> & { type?: string };
  if (s.type !== 'mirror') return { restarts: 0 };
  return { startedAt: s.startedAt, totals: s.totals, carried: s.carried ?? null, restarts: typeof s.restarts === 'number' ? s.restarts : 0 };
}

/** A tally's counts without its fields and samples: small enough to store with every look. */
function compact(t: ShadowTally): ShadowTally {
  return { ...t, fields: {}, fieldsDropped: 0, samples: [] };
}

/** The tally as the analysis reads a metrics source: the shadow is the canary, the live version the baseline. */
function measurementOf(t: ShadowTally): { canary: SideMeasurement; baseline: SideMeasurement } {
  return {
    canary: {
      requests: t.shadow.compared,
      errors: t.shadow.errors,
      latency: latencyHistogram(t.shadow.latency),
      ratios: { [SHADOW_METRICS.differences]: { numerator: t.shadow.differing, denominator: t.shadow.compared } },
    },
    baseline: {
      requests: t.primary.answered,
      errors: t.primary.errors,
      latency: latencyHistogram(t.primary.latency),
      ratios: { [SHADOW_METRICS.differences]: { numerator: t.secondary.differing, denominator: t.secondary.compared } },
    },
  };
}

/** What the comparison saw, stored with each look: rates, counts, the fields that differ most, samples (bounded). */
function sourceOf(step: ShadowStep, view: MirrorSessionView) {
  const t = view.tally;
  const arm = ({ latency: _latency, ...counts }: ShadowTally['shadow']) => counts;
  const fields = Object.entries(t.fields)
    .sort(([, a], [, b]) => b.shadow - a.shadow || b.secondary - a.secondary)
    .slice(0, 20)
    .map(([path, counts]) => ({ path, ...counts }));
  return {
    type: 'mirror',
    url: step.mirrorUrl,
    session: view.session,
    slot: view.config.slot,
    startedAt: view.startedAt,
    shadow: {
      rates: differenceRates(t),
      shadow: arm(t.shadow),
      secondary: arm(t.secondary),
      primary: { answered: t.primary.answered, errors: t.primary.errors },
      skipped: t.skipped,
      fields,
      fieldsDropped: t.fieldsDropped + Math.max(0, Object.keys(t.fields).length - fields.length),
      samples: t.samples.slice(0, SHADOW_TALLY_LIMITS.samplesPerArm * 2).filter((s, i, all) => all.slice(0, i).filter((x) => x.arm === s.arm).length < 10),
      methods: step.methods,
      ignoreFields: step.ignoreFields,
    },
  };
}
