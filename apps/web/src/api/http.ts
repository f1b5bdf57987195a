// Same-origin JSON requests: in production the API serves the dashboard, in dev Vite proxies.

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

interface GetOptions {
  query?: Record<string, string | undefined>;
  /** Non-2xx statuses whose body is still the expected reply (e.g. 503 from /readyz). */
  acceptStatus?: number[];
}

export async function getJson<T>(path: string, { query = {}, acceptStatus = [] }: GetOptions = {}): Promise<T> {
  const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const url = params.size ? `${path}?${params}` : path;
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok && !acceptStatus.includes(response.status)) throw await toApiError(response);
  return (await response.json()) as T;
}

async function toApiError(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string; requestId?: string; details?: unknown } } | null;
  const error = body?.error;
  return error
    ? new ApiError(response.status, error.code, error.message, error.requestId, error.details)
    : new ApiError(response.status, 'http_error', `${response.status} ${response.statusText}`);
}

/**
 * A state-changing request with the session cookie: x-csrf-token proves it comes from the
 * dashboard (GET /api/v1/me gives the token). Errors come back as ApiError with the API's words.
 */
export async function sendJson<T>(
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body: unknown,
  csrfToken: string,
): Promise<{ status: number; data: T }> {
  const response = await fetch(path, {
    method,
    headers: { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': csrfToken },
    body: JSON.stringify(body ?? {}),
  });
  if (!response.ok) throw await toApiError(response);
  return { status: response.status, data: (await response.json()) as T };
}
