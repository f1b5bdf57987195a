import { pathProblem } from '@glidepath/core';
import type { NamedDestination } from './outbound-check.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The gate steps of a validated plan spec, each with its path in the request: canary steps, blue-green checks, the rolling check. */
function gates(spec: Obj): Array<{ at: string; gate: Obj }> {
  const list = (key: string) => (Array.isArray(spec[key]) ? (spec[key] as unknown[]) : []).map((gate, i) => ({ at: `body.spec.${key}[${i}]`, gate }));
  const all = [...list('steps'), ...list('checks'), ...(spec.check === undefined ? [] : [{ at: 'body.spec.check', gate: spec.check }])];
  return all.filter((g): g is { at: string; gate: Obj } => isObj(g.gate));
}

/**
 * What a plan makes the worker call: webhook gate URLs and a shadow plan's mirroring proxy (checked against the network policy)
 * and smoke check paths, which must stay on the environment's base URL (`//other-host/x` would
 * resolve to another host). Paths are judged here, not in core's plan validation, because
 * they are part of the same rule: where Glidepath's calls may go.
 */
export function planDestinations(spec: unknown): { destinations: NamedDestination[]; pathProblems: Array<{ field: string; problem: string }> } {
  const destinations: NamedDestination[] = [];
  const pathProblems: Array<{ field: string; problem: string }> = [];
  // A shadow plan's mirroring proxy: the worker calls its control API.
  if (isObj(spec) && spec.strategy === 'shadow' && isObj(spec.mirror) && typeof spec.mirror.url === 'string')
    destinations.push({ field: 'body.spec.mirror.url', target: { kind: 'url', url: spec.mirror.url } });
  for (const { at, gate } of isObj(spec) ? gates(spec) : []) {
    if (gate.type === 'webhook' && typeof gate.url === 'string') destinations.push({ field: `${at}.url`, target: { kind: 'url', url: gate.url } });
    if (gate.type !== 'smoke' || !Array.isArray(gate.checks)) continue;
    gate.checks.forEach((check: unknown, i) => {
      const path = isObj(check) ? check.path : undefined;
      const problem = typeof path === 'string' ? pathProblem(path) : null;
      if (problem) pathProblems.push({ field: `${at}.checks[${i}].path`, problem });
    });
  }
  return { destinations, pathProblems };
}
