import type { AnalysisMetric, CompiledPlan, GateStep, SmokeCheck, Step } from './compiled-plan.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { gateRunMs, PLAN_LIMITS as L } from './plan-limits.ts';
import { shadowSteps } from './shadow-plan.ts';
import { analysisWarnings, DEFAULT_EXPECTED_ERROR_RATE, type ExpectedTraffic, type PlanWarning } from './plan-warnings.ts';

export interface PlanProblem {
  path: string;
  message: string;
}

/** warnings: what will run but cannot do what it is for (plan-warnings.ts); never a reason to refuse the plan. */
export type PlanValidation = { ok: true; plan: CompiledPlan; warnings: PlanWarning[] } | { ok: false; problems: PlanProblem[] };

const DEFAULTS = { analysisIntervalMs: 10_000, analysisMaxMs: 10 * 60_000, alpha: 0.01, tolerance: 1.5, webhookTimeoutMs: 10_000, smokeRetryDelayMs: 2_000 };
const DEFAULT_METRICS: AnalysisMetric[] = [{ name: 'error-rate', kind: 'errors', tolerance: DEFAULTS.tolerance, thresholdMs: null }];

/**
 * Checks a plan spec and compiles it. Reports every problem at once, each with the path
 * of the value at fault (`steps[3].weight: must be 0–100`), so one round trip fixes all.
 */
export function validatePlan(spec: unknown): PlanValidation {
  const v = new Validator();
  const plan = v.plan(spec);
  if (v.problems.length || !plan) return { ok: false, problems: v.problems };
  return { ok: true, plan, warnings: v.traffic ? analysisWarnings(plan, v.traffic) : [] };
}

type Obj = Record<string, unknown>;

class Validator {
  problems: PlanProblem[] = [];
  /** The traffic the plan expects (`traffic`), for the warnings only. */
  traffic: ExpectedTraffic | undefined;

  fail(path: string, message: string): undefined {
    this.problems.push({ path: path || '(plan)', message });
    return undefined;
  }

  object(value: unknown, path: string, known: string[]): Obj | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.fail(path, 'must be an object');
    for (const key of Object.keys(value)) if (!known.includes(key)) this.fail(join(path, key), `is not a known field (expected one of: ${known.join(', ')})`);
    return value as Obj;
  }

  number(
    value: unknown,
    path: string,
    min: number,
    max: number,
    { integer = false, fallback }: { integer?: boolean; fallback?: number } = {},
  ): number | undefined {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      return this.fail(path, `must be ${integer ? 'an integer' : 'a number'} ${min}–${max}`);
    }
    return value;
  }

  /**
   * A duration from `min` to `max` ms (every duration has an upper bound: 9999999999h or 1e300 s
   * would be a timer no date can hold). `zero` explains why 0 means nothing where it does not.
   */
  duration(
    value: unknown,
    path: string,
    fallback: number | null | undefined,
    { min = 0, max, zero }: { min?: number; max: number; zero?: string },
  ): number | null | undefined {
    if (value === undefined && fallback !== undefined) return fallback;
    const ms = parseDuration(value);
    if (ms === null) return this.fail(path, 'must be a duration such as "500ms", "30s", "10m", "1h" (or a number of seconds)');
    if (ms === 0 && zero) return this.fail(path, `must be more than 0 ${zero}`);
    if (ms < min || ms > max) return this.fail(path, `must be a duration from ${min === 0 ? '0' : formatDuration(min)} to ${formatDuration(max)}`);
    return ms;
  }

  string(
    value: unknown,
    path: string,
    { optional = false, pattern, maxLength }: { optional?: boolean; pattern?: RegExp; maxLength: number },
  ): string | undefined {
    if (value === undefined && optional) return undefined;
    if (typeof value !== 'string' || value.length === 0) return this.fail(path, 'must be a non-empty string');
    if (value.length > maxLength) return this.fail(path, `must be at most ${maxLength} characters`);
    if (pattern && !pattern.test(value)) return this.fail(path, `must match ${pattern}`);
    return value;
  }

  list(value: unknown, path: string, what: string, max: number): unknown[] | undefined {
    if (!Array.isArray(value) || value.length === 0) return this.fail(path, `must be a non-empty list of ${what}`);
    if (value.length > max) return this.fail(path, `must have at most ${max} ${what}`);
    return value;
  }

  plan(spec: unknown): CompiledPlan | undefined {
    if (typeof spec !== 'object' || spec === null) return this.fail('', 'must be an object with a strategy');
    const strategy = (spec as Obj).strategy;
    const common = ['strategy', 'rollback', 'watch', 'windows', 'traffic'];
    let steps: Step[] | undefined;
    if (strategy === 'canary') {
      const s = this.object(spec, '', [...common, 'steps']);
      steps = s && this.canarySteps(s.steps);
    } else if (strategy === 'blue-green') {
      const s = this.object(spec, '', [...common, 'checks', 'keepOldFor']);
      steps = s && this.blueGreenSteps(s);
    } else if (strategy === 'rolling') {
      const s = this.object(spec, '', [...common, 'batches', 'check', 'interval']);
      steps = s && this.rollingSteps(s);
    } else if (strategy === 'shadow') {
      // Nothing is promoted, so there is nothing to watch after promotion.
      if ((spec as Obj).watch !== undefined) this.fail('watch', 'a shadow release promotes nothing, so nothing is watched after it');
      const s = this.object(spec, '', [...common.filter((k) => k !== 'watch'), 'mirror', 'analysis', 'compare']);
      steps = s && shadowSteps(this, s);
    } else {
      return this.fail('strategy', 'must be one of canary, blue-green, rolling, shadow');
    }
    const s = spec as Obj;
    const rollback = s.rollback === undefined ? {} : this.object(s.rollback, 'rollback', ['automatic']);
    if (rollback?.automatic !== undefined && typeof rollback.automatic !== 'boolean') this.fail('rollback.automatic', 'must be true or false');
    const watch = s.watch === undefined ? undefined : this.watch(s.watch);
    const windows = s.windows === undefined ? {} : this.object(s.windows, 'windows', ['onClose']);
    if (windows?.onClose !== undefined && windows.onClose !== 'hold' && windows.onClose !== 'continue')
      this.fail('windows.onClose', 'must be hold or continue');
    if (s.traffic !== undefined) this.expectedTraffic(s.traffic);
    if (!steps || !rollback || !windows) return undefined;
    return {
      strategy,
      steps: watch ? [...steps, watch] : steps,
      rollback: { automatic: rollback.automatic !== false },
      ...(windows.onClose === 'continue' ? { onWindowClose: 'continue' as const } : {}),
    };
  }

  /** What the service serves (both versions) and its error rate: only the warnings read it. */
  expectedTraffic(value: unknown): void {
    const t = this.object(value, 'traffic', ['requestsPerSecond', 'errorRate']);
    if (!t) return;
    const requestsPerSecond = this.number(t.requestsPerSecond, 'traffic.requestsPerSecond', 0.001, 10_000_000);
    const errorRate = this.number(t.errorRate, 'traffic.errorRate', 0.000001, 0.999, { fallback: DEFAULT_EXPECTED_ERROR_RATE });
    if (requestsPerSecond !== undefined && errorRate !== undefined) this.traffic = { requestsPerSecond, errorRate };
  }

  canarySteps(value: unknown): Step[] | undefined {
    const list = this.list(value, 'steps', 'steps', L.steps);
    if (!list) return undefined;
    const steps = list.map((step, i) => this.step(step, `steps[${i}]`));
    let last = 0;
    steps.forEach((step, i) => {
      if (step?.type !== 'setWeight') return;
      if (step.weight < last) this.fail(`steps[${i}].weight`, `must not go below the previous setWeight (${last}); use rollback to reduce traffic`);
      last = step.weight;
    });
    return steps.every(Boolean) ? (steps as Step[]) : undefined;
  }

  blueGreenSteps(s: Obj): Step[] | undefined {
    const checks =
      s.checks === undefined
        ? []
        : !Array.isArray(s.checks)
          ? [this.fail('checks', 'must be a list of gate steps')]
          : s.checks.length > L.blueGreenChecks
            ? [this.fail('checks', `must have at most ${L.blueGreenChecks} gate steps`)]
            : s.checks.map((c, i) => this.gate(c, `checks[${i}]`));
    // Zero is meaningful here: the old version goes as soon as the new one takes all traffic.
    const keepOldFor = this.duration(s.keepOldFor, 'keepOldFor', 5 * 60_000, { max: L.waitMs });
    if (!checks.every(Boolean) || keepOldFor === undefined || keepOldFor === null) return undefined;
    // The new version comes up beside the old one with no traffic, is checked, then takes all of it at once.
    return [{ type: 'setWeight', weight: 0 }, ...(checks as GateStep[]), { type: 'setWeight', weight: 100 }, { type: 'hold', durationMs: keepOldFor }];
  }

  rollingSteps(s: Obj): Step[] | undefined {
    const batches = s.batches;
    if (!Array.isArray(batches) || batches.length === 0) return this.fail('batches', 'must be a non-empty list of cumulative percentages ending at 100');
    const weights = batches.map((b, i) => this.number(b, `batches[${i}]`, 1, 100, { integer: true }));
    weights.forEach((w, i) => {
      if (i > 0 && w !== undefined && weights[i - 1] !== undefined && w <= weights[i - 1]!)
        this.fail(`batches[${i}]`, 'must be greater than the batch before it');
    });
    if (weights.at(-1) !== 100) this.fail(`batches[${batches.length - 1}]`, 'the last batch must be 100');
    const check = s.check === undefined ? null : this.gate(s.check, 'check');
    const interval = this.duration(s.interval, 'interval', null, { max: L.waitMs });
    if (weights.some((w) => w === undefined) || check === undefined || interval === undefined) return undefined;
    return (weights as number[]).flatMap((weight, i) => {
      const steps: Step[] = [{ type: 'setWeight', weight }];
      if (check) steps.push(check);
      if (interval && i < weights.length - 1) steps.push({ type: 'pause', durationMs: interval });
      return steps;
    });
  }

  watch(value: unknown): Step | undefined {
    const w = this.object(value, 'watch', ['duration', 'analysis']);
    if (!w) return undefined;
    const duration = this.duration(w.duration, 'watch.duration', undefined, { min: 1000, max: L.analysisMs });
    const analysis = this.analysis((w.analysis ?? {}) as Obj, 'watch.analysis', false);
    if (duration && analysis && analysis.intervalMs > duration)
      this.fail('watch.duration', `must be at least watch.analysis.interval (${formatDuration(analysis.intervalMs)}): no look would happen before it ends`);
    if (!duration || !analysis || analysis.intervalMs > duration) return undefined;
    return { ...analysis, minDurationMs: duration, maxDurationMs: duration, onInconclusive: 'pass', watch: true };
  }

  step(value: unknown, path: string): Step | undefined {
    const type = (value as Obj | null)?.type;
    if (type === 'setWeight') {
      const s = this.object(value, path, ['type', 'weight']);
      const weight = s && this.number(s.weight, `${path}.weight`, 0, 100, { integer: true });
      return weight === undefined ? undefined : { type, weight };
    }
    if (type === 'pause') {
      const s = this.object(value, path, ['type', 'duration']);
      const durationMs = s && this.duration(s.duration, `${path}.duration`, null, { max: L.waitMs, zero: '(leave duration out to pause until resumed)' });
      return durationMs === undefined ? undefined : { type, durationMs };
    }
    if (type === 'approval') {
      const s = this.object(value, path, ['type', 'group', 'count', 'expiresAfter']);
      if (!s) return undefined;
      const group = this.string(s.group, `${path}.group`, { optional: true, maxLength: L.groupLength });
      const count = this.number(s.count, `${path}.count`, 1, L.approvals, { integer: true, fallback: 1 });
      // An approval counts for expiresAfter after it is given, and the step waits as long for all of
      // them: shorter than a minute, it expires before anyone can be told, look and approve.
      const expiresAfterMs = this.duration(s.expiresAfter, `${path}.expiresAfter`, null, { min: L.minApprovalExpiryMs, max: L.waitMs });
      return count === undefined || expiresAfterMs === undefined ? undefined : { type, group: group ?? null, count, expiresAfterMs };
    }
    if (type === 'analysis' || type === 'smoke' || type === 'webhook') return this.gate(value, path);
    return this.fail(`${path}.type`, 'must be one of setWeight, pause, analysis, smoke, webhook, approval');
  }

  gate(value: unknown, path: string): GateStep | undefined {
    const type = (value as Obj | null)?.type;
    if (type === 'analysis') {
      const s = this.object(value, path, ['type', 'interval', 'minDuration', 'maxDuration', 'alpha', 'metrics', 'onInconclusive']);
      return s && this.analysis(s, path, true);
    }
    if (type === 'smoke') {
      const s = this.object(value, path, ['type', 'checks', 'retries', 'retryDelay']);
      if (!s) return undefined;
      const list = this.list(s.checks, `${path}.checks`, 'HTTP checks', L.smokeChecks);
      if (!list) return undefined;
      const checks = list.map((c, i) => this.smokeCheck(c, `${path}.checks[${i}]`));
      const retries = this.number(s.retries, `${path}.retries`, 0, L.retries, { integer: true, fallback: 2 });
      const retryDelayMs = this.duration(s.retryDelay, `${path}.retryDelay`, DEFAULTS.smokeRetryDelayMs, { max: L.smokeRetryDelayMs });
      if (!checks.every(Boolean) || retries === undefined || retryDelayMs == null) return undefined;
      const step = { type: 'smoke' as const, checks: checks as SmokeCheck[], retries, retryDelayMs };
      return this.fitsOneRun(step, path, 'retries', 'every round timing out (its slowest check), with retryDelay between rounds,');
    }
    if (type === 'webhook') {
      const s = this.object(value, path, ['type', 'url', 'timeout', 'retries']);
      if (!s) return undefined;
      const url = this.string(s.url, `${path}.url`, { pattern: /^https?:\/\/\S+$/, maxLength: L.urlLength });
      const timeoutMs = this.duration(s.timeout, `${path}.timeout`, DEFAULTS.webhookTimeoutMs, { min: L.minWebhookTimeoutMs, max: L.webhookTimeoutMs });
      const retries = this.number(s.retries, `${path}.retries`, 0, L.retries, { integer: true, fallback: 3 });
      if (!url || timeoutMs == null || retries === undefined) return undefined;
      return this.fitsOneRun({ type, url, timeoutMs, retries }, path, 'timeout', 'timeout × (retries + 1), with the backoff between attempts,');
    }
    return this.fail(`${path}.type`, 'must be one of analysis, smoke, webhook');
  }

  /**
   * A smoke or webhook gate runs as one job, from its first request to its verdict, holding a
   * worker slot all along; the reconciler asks again only after twice that time. So the run, with
   * every attempt failing slowly, must fit in PLAN_LIMITS.gateRunMs.
   */
  fitsOneRun<S extends Extract<GateStep, { type: 'smoke' | 'webhook' }>>(step: S, path: string, field: string, what: string): S | undefined {
    const ms = gateRunMs(step);
    if (ms <= L.gateRunMs) return step;
    return this.fail(
      `${path}.${field}`,
      `${what} takes up to ${formatDuration(ms)}: must fit in ${formatDuration(L.gateRunMs)}, the longest one gate run may hold a worker`,
    );
  }

  analysis(s: Obj, path: string, checkOwnFields: boolean): Extract<GateStep, { type: 'analysis' }> | undefined {
    if (!checkOwnFields) this.object(s, path, ['interval', 'alpha', 'metrics']);
    const intervalMs = this.duration(s.interval, `${path}.interval`, DEFAULTS.analysisIntervalMs, {
      min: L.minAnalysisIntervalMs,
      max: L.analysisIntervalMs,
    });
    const minDurationMs = this.duration(s.minDuration, `${path}.minDuration`, 0, { max: L.analysisMs });
    const maxDurationMs = this.duration(s.maxDuration, `${path}.maxDuration`, DEFAULTS.analysisMaxMs, { min: 1000, max: L.analysisMs });
    const alpha = this.number(s.alpha, `${path}.alpha`, 1e-6, 0.2, { fallback: DEFAULTS.alpha });
    const onInconclusive = s.onInconclusive ?? 'pause';
    if (onInconclusive !== 'pass' && onInconclusive !== 'fail' && onInconclusive !== 'pause')
      this.fail(`${path}.onInconclusive`, 'must be pass, fail or pause');
    const metrics = s.metrics === undefined ? DEFAULT_METRICS : this.metrics(s.metrics, `${path}.metrics`);
    if (minDurationMs != null && maxDurationMs != null && minDurationMs > maxDurationMs) this.fail(`${path}.minDuration`, 'must not exceed maxDuration');
    // Looks come every interval until maxDuration: a longer interval leaves one look, at the limit, with no chance to decide earlier.
    if (checkOwnFields && intervalMs != null && maxDurationMs != null && intervalMs > maxDurationMs)
      this.fail(
        `${path}.interval`,
        `must not exceed maxDuration (${formatDuration(maxDurationMs)})${s.interval === undefined ? `; it is ${formatDuration(intervalMs)} when left out` : ''}: no look would happen before the limit`,
      );
    if (intervalMs == null || minDurationMs == null || maxDurationMs == null || alpha === undefined || !metrics) return undefined;
    return {
      type: 'analysis',
      intervalMs,
      minDurationMs,
      maxDurationMs,
      alpha,
      metrics,
      onInconclusive: onInconclusive as 'pass' | 'fail' | 'pause',
      watch: false,
    };
  }

  metrics(value: unknown, path: string): AnalysisMetric[] | undefined {
    const list = this.list(value, path, 'metrics', L.metrics);
    if (!list) return undefined;
    const metrics = list.map((m, i) => {
      const p = `${path}[${i}]`;
      const s = this.object(m, p, ['name', 'kind', 'tolerance', 'thresholdMs', 'direction']);
      if (!s) return undefined;
      const name = this.string(s.name, `${p}.name`, { maxLength: L.nameLength });
      if (s.kind !== 'errors' && s.kind !== 'latency' && s.kind !== 'ratio') this.fail(`${p}.kind`, 'must be errors, latency or ratio');
      const tolerance = this.number(s.tolerance, `${p}.tolerance`, 1, 100, { fallback: DEFAULTS.tolerance });
      // A latency metric counts the requests slower than a histogram bucket boundary at or above
      // thresholdMs (judge/latency.ts). Outside 1 ms–60 s no HTTP latency histogram has a boundary,
      // so the metric would stay inconclusive for the whole analysis: it can never be measured.
      // On other kinds the judge never reads it, which a plan's author would not expect.
      const thresholdMs =
        s.thresholdMs === undefined
          ? null
          : s.kind !== 'latency'
            ? this.fail(`${p}.thresholdMs`, 'applies to latency metrics only')
            : this.number(s.thresholdMs, `${p}.thresholdMs`, L.minLatencyThresholdMs, L.latencyThresholdMs);
      // Only a ratio has a direction to choose: errors and slow requests are always the bad side.
      const direction =
        s.direction === undefined
          ? 'higher-is-worse'
          : s.kind !== 'ratio'
            ? this.fail(`${p}.direction`, 'applies to ratio metrics only (errors and slow requests are always worse when higher)')
            : s.direction === 'higher-is-worse' || s.direction === 'lower-is-worse'
              ? s.direction
              : this.fail(`${p}.direction`, 'must be higher-is-worse or lower-is-worse');
      if (!name || tolerance === undefined || thresholdMs === undefined || direction === undefined) return undefined;
      const kind = s.kind as AnalysisMetric['kind'];
      return kind === 'ratio' ? { name, kind, tolerance, thresholdMs, direction } : { name, kind, tolerance, thresholdMs };
    });
    const names = metrics.map((m) => m?.name);
    names.forEach((n, i) => {
      if (n && names.indexOf(n) !== i) this.fail(`${path}[${i}].name`, `duplicates metric "${n}"`);
    });
    return metrics.every(Boolean) ? (metrics as AnalysisMetric[]) : undefined;
  }

  smokeCheck(value: unknown, path: string): SmokeCheck | undefined {
    const s = this.object(value, path, ['path', 'expectStatus', 'maxLatency', 'bodyContains']);
    if (!s) return undefined;
    const p = this.string(s.path, `${path}.path`, { pattern: /^\//, maxLength: L.urlLength });
    const expectStatus = this.number(s.expectStatus, `${path}.expectStatus`, 100, 599, { integer: true, fallback: 200 });
    // maxLatency is also the check's timeout: 0 would fail every check before it is sent.
    const maxLatencyMs = this.duration(s.maxLatency, `${path}.maxLatency`, null, {
      min: 1,
      max: L.smokeCheckTimeoutMs,
      zero: '(leave it out for no latency limit)',
    });
    const bodyContains = this.string(s.bodyContains, `${path}.bodyContains`, { optional: true, maxLength: L.bodyContainsLength });
    if (!p || expectStatus === undefined || maxLatencyMs === undefined) return undefined;
    return { path: p, expectStatus, maxLatencyMs, bodyContains: bodyContains ?? null };
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
