import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, STATUS_BY_CODE, type ErrorCode } from './app-error.ts';
import { unavailableDependency } from './unavailable.ts';

interface ValidationIssue {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `body/owners/0`, with a missing property named in the path itself. */
function fieldPath(context: string | undefined, issue: ValidationIssue): string {
  const parts = [context ?? 'body', ...issue.instancePath.split('/').filter(Boolean)];
  const missing = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  if (typeof missing === 'string') parts.push(missing);
  return parts.join('.');
}

function issueMessage(issue: ValidationIssue): string {
  if (issue.params?.additionalProperty) return 'is not a known field';
  if (issue.params?.missingProperty) return 'is required';
  return issue.message ?? 'is invalid';
}

/** What a 503 asks clients to wait: about as long as a PostgreSQL restart or a Redis failover takes. */
const RETRY_AFTER_S = 5;

/** The error model's code for a status Fastify or a plugin chose. */
export function codeForStatus(status: number): ErrorCode {
  const code = (Object.keys(STATUS_BY_CODE) as ErrorCode[]).find((c) => STATUS_BY_CODE[c] === status && c !== 'validation_failed');
  return code ?? (status >= 500 ? 'internal' : 'bad_request');
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const requestId = request.id;
    if (error instanceof AppError) {
      return reply.status(STATUS_BY_CODE[error.code]).send({ error: { code: error.code, message: error.message, requestId, details: error.details } });
    }
    const fastifyError = error as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
    if (fastifyError.validation) {
      const all = fastifyError.validation.map((issue) => ({ field: fieldPath(fastifyError.validationContext, issue), problem: issueMessage(issue) }));
      // One problem per field, the first: a malformed date is "must match format", not that and a pattern too.
      const details = all.filter((d, i) => all.findIndex((e) => e.field === d.field) === i);
      const message = details.map((d) => `${d.field}: ${d.problem}`).join('; ');
      return reply.status(400).send({ error: { code: 'validation_failed', message, requestId, details } });
    }
    const status = fastifyError.statusCode ?? 500;
    if (status < 500) {
      return reply.status(status).send({ error: { code: codeForStatus(status), message: fastifyError.message, requestId } });
    }
    const away = unavailableDependency(error);
    if (away) {
      request.log.warn({ err: error }, `${away} unavailable`);
      const what = away === 'database' ? 'the database (PostgreSQL)' : 'the queue (Redis)';
      return reply
        .status(503)
        .header('retry-after', String(RETRY_AFTER_S))
        .send({ error: { code: 'unavailable', message: `${what} is not reachable right now; try again in a few seconds`, requestId } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ error: { code: 'internal', message: 'internal error; the request id identifies it in the logs', requestId } });
  });
}
