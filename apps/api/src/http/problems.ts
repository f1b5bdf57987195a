import { AppError } from './app-error.ts';

/** 422 with every problem of a document (plan, target config, policy), each with its path. */
export function unprocessable(what: string, problems: Array<{ path: string; message: string }>, prefix = ''): AppError {
  const details = problems.map((p) => ({ field: prefix ? `${prefix}.${p.path}` : p.path, problem: p.message }));
  return new AppError('unprocessable', `${what} is invalid: ${details.map((d) => `${d.field}: ${d.problem}`).join('; ')}`, details);
}

export function isUniqueViolation(error: unknown, constraintHint?: string): boolean {
  const e = error as { code?: string; meta?: { target?: unknown; driverAdapterError?: { cause?: { constraint?: { index?: string } } } }; message?: string };
  if (e?.code !== 'P2002') return false;
  if (!constraintHint) return true;
  return JSON.stringify(e.meta ?? {}).includes(constraintHint) || (e.message ?? '').includes(constraintHint);
}
