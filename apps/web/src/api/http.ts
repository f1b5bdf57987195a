// The generated client (packages/client), same-origin: in production the API serves the
// dashboard, in development Vite proxies. The session cookie goes along by itself; requests
// that change state add `csrf(token)` (GET /api/v1/me gives the token).
import { createGlidepathClient } from '@glidepath/client';

export const api = createGlidepathClient({ baseUrl: location.origin });

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

type Reply<T> = { data?: T; error?: unknown; response: Response };

/**
 * The reply's data; any other answer becomes an ApiError with the API's words. `acceptStatus`:
 * non-2xx statuses whose body is still the expected reply (503 from /readyz).
 */
export async function unwrap<T>(call: Promise<Reply<T>>, acceptStatus: number[] = []): Promise<T> {
  const { data: body, error, response } = await call;
  if (response.ok || acceptStatus.includes(response.status)) return (body ?? error) as T;
  const e = (error as { error?: { code: string; message: string; requestId?: string; details?: unknown } } | undefined)?.error;
  throw e
    ? new ApiError(response.status, e.code, e.message, e.requestId, e.details)
    : new ApiError(response.status, 'http_error', `${response.status} ${response.statusText}`);
}

/** The header a state-changing request with the session cookie needs. */
export function csrf(token: string | undefined): { headers: { 'x-csrf-token': string } } {
  if (!token) throw new ApiError(401, 'unauthorized', 'sign in first');
  return { headers: { 'x-csrf-token': token } };
}
