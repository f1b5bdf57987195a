import type { AnalysisMetric, CompiledPlan, GateStep, SmokeCheck, Step } from './compiled-plan.ts';
import { parseDuration } from './duration.ts';

export interface PlanProblem {
  path: string;
  message: string;
}

export type PlanValidation = { ok: true; plan: CompiledPlan } | { ok: false; problems: PlanProblem[] };

const DEFAULTS = { analysisIntervalMs: 10_000, analysisMaxMs: 10 * 60_000, alpha: 0.01, tolerance: 1.5, webhookTimeoutMs: 10_000, smokeRetryDelayMs: 2_000 };
const DEFAULT_METRICS: AnalysisMetric[] = [{ name: 'error-rate', kind: 'errors', tolerance: DEFAULTS.tolerance, thresholdMs: null }];

/**
 * Checks a plan spec and compiles it. Reports every problem at once, each with the path
 * of the value at fault (`steps[3].weight: must be 0–100`), so one round trip fixes all.
 */
export function validatePlan(spec: unknown): PlanValidation {
  const v = new Validator();
  const plan = v.plan(spec);
  return v.problems.length || !plan ? { ok: false, problems: v.problems } : { ok: true, plan };
}

type Obj = Record<string, unknown>;

class Validator {
  problems: PlanProblem[] = [];

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

  duration(value: unknown, path: string, fallback?: number | null, { min = 0 } = {}): number | null | undefined {
    if (value === undefined && fallback !== undefined) return fallback;
    const ms = parseDuration(value);
    if (ms === null) return this.fail(path, 'must be a duration such as "500ms", "30s", "10m", "1h" (or a number of seconds)');
    if (ms < min) return this.fail(path, `must be at least ${min} ms`);
    return ms;
  }

  string(value: unknown, path: string, { optional = false, pattern }: { optional?: boolean; pattern?: RegExp } = {}): string | undefined {
    if (value === undefined && optional) return undefined;
    if (typeof value !== 'string' || value.length === 0) return this.fail(path, 'must be a non-empty string');
    if (pattern && !pattern.test(value)) return this.fail(path, `must match ${pattern}`);
    return value;
  }

  plan(spec: unknown): CompiledPlan | undefined {
    if (typeof spec !== 'object' || spec === null) return this.fail('', 'must be an object with a strategy');
    const strategy = (spec as Obj).strategy;
    const common = ['strategy', 'rollback', 'watch', 'windows'];
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
    } else {
      return this.fail('strategy', 'must be one of canary, blue-green, rolling');
    }
    const s = spec as Obj;
    const rollback = s.rollback === undefined ? {} : this.object(s.rollback, 'rollback', ['automatic']);
    if (rollback?.automatic !== undefined && typeof rollback.automatic !== 'boolean') this.fail('rollback.automatic', 'must be true or false');
    const watch = s.watch === undefined ? undefined : this.watch(s.watch);
    const windows = s.windows === undefined ? {} : this.object(s.windows, 'windows', ['onClose']);
    if (windows?.onClose !== undefined && windows.onClose !== 'hold' && windows.onClose !== 'continue')
      this.fail('windows.onClose', 'must be hold or continue');
    if (!steps || !rollback || !windows) return undefined;
    return {
      strategy,
      steps: watch ? [...steps, watch] : steps,
      rollback: { automatic: rollback.automatic !== false },
      ...(windows.onClose === 'continue' ? { onWindowClose: 'continue' as const } : {}),
    };
  }

  canarySteps(value: unknown): Step[] | undefined {
    if (!Array.isArray(value) || value.length === 0) return this.fail('steps', 'must be a non-empty list of steps');
    if (value.length > 100) return this.fail('steps', 'must have at most 100 steps');
    const steps = value.map((step, i) => this.step(step, `steps[${i}]`));
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
        : Array.isArray(s.checks)
          ? s.checks.map((c, i) => this.gate(c, `checks[${i}]`))
          : [this.fail('checks', 'must be a list of gate steps')];
    const keepOldFor = this.duration(s.keepOldFor, 'keepOldFor', 5 * 60_000);
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
    const interval = this.duration(s.interval, 'interval', null);
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
    const duration = this.duration(w.duration, 'watch.duration', undefined, { min: 1000 });
    const analysis = this.analysis((w.analysis ?? {}) as Obj, 'watch.analysis', false);
    if (!duration || !analysis) return undefined;
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
      const durationMs = s && this.duration(s.duration, `${path}.duration`, null);
      return durationMs === undefined ? undefined : { type, durationMs };
    }
    if (type === 'approval') {
      const s = this.object(value, path, ['type', 'group', 'count', 'expiresAfter']);
      if (!s) return undefined;
      const group = this.string(s.group, `${path}.group`, { optional: true });
      const count = this.number(s.count, `${path}.count`, 1, 10, { integer: true, fallback: 1 });
      const expiresAfterMs = this.duration(s.expiresAfter, `${path}.expiresAfter`, null);
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
      if (!Array.isArray(s.checks) || s.checks.length === 0) return this.fail(`${path}.checks`, 'must be a non-empty list of HTTP checks');
      const checks = s.checks.map((c, i) => this.smokeCheck(c, `${path}.checks[${i}]`));
      const retries = this.number(s.retries, `${path}.retries`, 0, 20, { integer: true, fallback: 2 });
      const retryDelayMs = this.duration(s.retryDelay, `${path}.retryDelay`, DEFAULTS.smokeRetryDelayMs);
      if (!checks.every(Boolean) || retries === undefined || retryDelayMs == null) return undefined;
      return { type, checks: checks as SmokeCheck[], retries, retryDelayMs };
    }
    if (type === 'webhook') {
      const s = this.object(value, path, ['type', 'url', 'timeout', 'retries']);
      if (!s) return undefined;
      const url = this.string(s.url, `${path}.url`, { pattern: /^https?:\/\/\S+$/ });
      const timeoutMs = this.duration(s.timeout, `${path}.timeout`, DEFAULTS.webhookTimeoutMs, { min: 100 });
      const retries = this.number(s.retries, `${path}.retries`, 0, 20, { integer: true, fallback: 3 });
      if (!url || timeoutMs == null || retries === undefined) return undefined;
      return { type, url, timeoutMs, retries };
    }
    return this.fail(`${path}.type`, 'must be one of analysis, smoke, webhook');
  }

  analysis(s: Obj, path: string, checkOwnFields: boolean): Extract<GateStep, { type: 'analysis' }> | undefined {
    if (!checkOwnFields) this.object(s, path, ['interval', 'alpha', 'metrics']);
    const intervalMs = this.duration(s.interval, `${path}.interval`, DEFAULTS.analysisIntervalMs, { min: 1000 });
    const minDurationMs = this.duration(s.minDuration, `${path}.minDuration`, 0);
    const maxDurationMs = this.duration(s.maxDuration, `${path}.maxDuration`, DEFAULTS.analysisMaxMs, { min: 1000 });
    const alpha = this.number(s.alpha, `${path}.alpha`, 1e-6, 0.2, { fallback: DEFAULTS.alpha });
    const onInconclusive = s.onInconclusive ?? 'pause';
    if (onInconclusive !== 'pass' && onInconclusive !== 'fail' && onInconclusive !== 'pause')
      this.fail(`${path}.onInconclusive`, 'must be pass, fail or pause');
    const metrics = s.metrics === undefined ? DEFAULT_METRICS : this.metrics(s.metrics, `${path}.metrics`);
    if (minDurationMs != null && maxDurationMs != null && minDurationMs > maxDurationMs) this.fail(`${path}.minDuration`, 'must not exceed maxDuration');
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
    if (!Array.isArray(value) || value.length === 0) return this.fail(path, 'must be a non-empty list of metrics');
    const metrics = value.map((m, i) => {
      const p = `${path}[${i}]`;
      const s = this.object(m, p, ['name', 'kind', 'tolerance', 'thresholdMs']);
      if (!s) return undefined;
      const name = this.string(s.name, `${p}.name`);
      if (s.kind !== 'errors' && s.kind !== 'latency' && s.kind !== 'ratio') this.fail(`${p}.kind`, 'must be errors, latency or ratio');
      const tolerance = this.number(s.tolerance, `${p}.tolerance`, 1, 100, { fallback: DEFAULTS.tolerance });
      const thresholdMs = s.thresholdMs === undefined ? null : this.number(s.thresholdMs, `${p}.thresholdMs`, 0.001, 3_600_000);
      if (!name || tolerance === undefined || thresholdMs === undefined) return undefined;
      return { name, kind: s.kind as AnalysisMetric['kind'], tolerance, thresholdMs };
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
    const p = this.string(s.path, `${path}.path`, { pattern: /^\// });
    const expectStatus = this.number(s.expectStatus, `${path}.expectStatus`, 100, 599, { integer: true, fallback: 200 });
    const maxLatencyMs = this.duration(s.maxLatency, `${path}.maxLatency`, null);
    const bodyContains = this.string(s.bodyContains, `${path}.bodyContains`, { optional: true });
    if (!p || expectStatus === undefined || maxLatencyMs === undefined) return undefined;
    return { path: p, expectStatus, maxLatencyMs, bodyContains: bodyContains ?? null };
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
