/** One error type for the whole API; `code` is stable and maps to one HTTP status. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const STATUS_BY_CODE = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  /** Signed in, but not recently enough for this action: sign in again (details.signIn). */
  reauthentication_required: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof STATUS_BY_CODE;
