import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, STATUS_BY_CODE, type ErrorCode } from './app-error.ts';

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
      const code: ErrorCode = status === 404 ? 'not_found' : status === 413 || status === 415 ? 'bad_request' : 'bad_request';
      return reply.status(status).send({ error: { code, message: fastifyError.message, requestId } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ error: { code: 'internal', message: 'internal error; the request id identifies it in the logs', requestId } });
  });
}
