import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from './app-error.ts';

/** Deeper than any document Glidepath takes; a body nested thousands deep would exhaust the stack. */
const MAX_DEPTH = 32;
// A surrogate half without its other half: not text, and PostgreSQL's JSON refuses it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first thing in a request that no schema can express but PostgreSQL refuses: NUL bytes, broken text, deep nesting. */
function firstProblem(value: unknown, field: string, depth = 0): { field: string; problem: string } | null {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return { field, problem: 'must not contain NUL characters' };
    if (LONE_SURROGATE.test(value)) return { field, problem: 'is not valid text (a lone UTF-16 surrogate)' };
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_DEPTH) return { field, problem: `is nested deeper than ${MAX_DEPTH} levels` };
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [key, child] of entries) {
    const keyProblem = firstProblem(key, `${field}.${key}`, depth + 1);
    if (keyProblem) return { field: keyProblem.field, problem: `key ${keyProblem.problem}` };
    const problem = firstProblem(child, `${field}.${key}`, depth + 1);
    if (problem) return problem;
  }
  return null;
}

/** After validation, numbers as converted from text: "Infinity", "1e400" and integers past 2^53 are not numbers to store. */
function firstBadNumber(value: unknown, field: string, depth = 0): { field: string; problem: string } | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { field, problem: 'must be a finite number' };
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) return { field, problem: `must be at most ${Number.MAX_SAFE_INTEGER}` };
    return null;
  }
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return null;
  for (const [key, child] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    const problem = firstBadNumber(child, `${field}.${key}`, depth + 1);
    if (problem) return problem;
  }
  return null;
}

/** The refusal for the first problem `find` sees in params, query string or body, if any. */
function refusal(request: FastifyRequest, find: (value: unknown, field: string) => { field: string; problem: string } | null): AppError | undefined {
  for (const [part, value] of [
    ['params', request.params],
    ['querystring', request.query],
    ['body', request.body],
  ] as const) {
    const problem = find(value, part);
    if (problem) return new AppError('validation_failed', `${problem.field}: ${problem.problem}`, [problem]);
  }
  return undefined;
}

/** Refuses input that would otherwise reach PostgreSQL and fail there with a 500. Callback hooks: every request runs them. */
export function installInputGuard(app: FastifyInstance): void {
  app.addHook('preHandler', (request, _reply, done) => done(refusal(request, firstBadNumber)));
  app.addHook('preValidation', (request, _reply, done) => done(refusal(request, firstProblem)));
}
