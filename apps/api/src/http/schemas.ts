import { AppError } from './app-error.ts';
import { Type, type TSchema } from 'typebox';

export const ErrorReply = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      requestId: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorReply' },
);

/** Error replies every route may give, for the OpenAPI document (401 and 403 from the access hook, 503 while PostgreSQL is away). */
export function withErrors<T extends Record<number, TSchema>>(ok: T) {
  return {
    ...ok,
    400: ErrorReply,
    401: ErrorReply,
    403: ErrorReply,
    404: ErrorReply,
    409: ErrorReply,
    422: ErrorReply,
    429: ErrorReply,
    500: ErrorReply,
    503: ErrorReply,
  };
}

/** The plain 8-4-4-4-12 form only: the uuid format also takes "urn:uuid:…", which PostgreSQL refuses. */
export const Uuid = Type.String({ format: 'uuid', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });
/** Years 1000–9999: what a date-time can be that PostgreSQL stores as written. */
export const IsoDateTime = Type.String({ format: 'date-time', pattern: '^[1-9][0-9]{3}-' });
export const JsonValue = Type.Unknown();

/** A sequence number given back as a cursor: digits that fit PostgreSQL's bigint, or a 400 naming the field. */
export function seqCursor(cursor: string | undefined, field = 'querystring.cursor'): bigint | undefined {
  if (cursor === undefined) return undefined;
  const value = BigInt(cursor);
  if (value > 9_223_372_036_854_775_807n)
    throw new AppError('validation_failed', `${field}: is not a cursor this API gave out`, [{ field, problem: 'is not a cursor this API gave out' }]);
  return value;
}
