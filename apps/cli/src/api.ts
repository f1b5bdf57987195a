import { createGlidepathClient, type ApiErrorBody, type GlidepathClient } from '@glidepath/client';
import { CliError, EXIT } from './exit-codes.ts';

export interface Connection {
  url: string;
  token: string;
}

/** The typed client with the CLI's way of failing: refusals and outages become exit codes. */
export function connect({ url, token }: Connection): GlidepathClient {
  return createGlidepathClient({ baseUrl: url, token, fetch: (request) => fetch(request, { signal: AbortSignal.timeout(30_000) }) });
}

type Reply<T> = { data?: T; error?: unknown; response: Response };

/** The reply's data, or a CliError: 4xx → refused (with the API's words), 5xx → unreachable. */
export async function must<T>(call: Promise<Reply<T>>, what: string): Promise<T> {
  let reply: Reply<T>;
  try {
    reply = await call;
  } catch (error) {
    throw new CliError(EXIT.unreachable, `${what}: cannot reach Glidepath (${describeNetworkError(error)})`);
  }
  if (reply.data !== undefined && reply.response.ok) return reply.data;
  const body = (reply.error ?? {}) as Partial<ApiErrorBody>;
  const message = body.error?.message ?? `${reply.response.status} ${reply.response.statusText}`;
  const problems = Array.isArray(body.error?.details)
    ? (body.error.details as Array<{ field?: string; problem?: string }>).filter((d) => d.field && d.problem).map((d) => `\n  ${d.field}: ${d.problem}`)
    : [];
  const code = reply.response.status >= 500 ? EXIT.unreachable : EXIT.refused;
  throw new CliError(
    code,
    `${what}: ${message}${problems.join('')}${body.error?.requestId ? ` (request ${body.error.requestId})` : ''}`,
    reply.response.status,
  );
}

export function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
