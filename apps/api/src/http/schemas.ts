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

/** Error replies every route may give, for the OpenAPI document (401 and 403 from the access hook). */
export function withErrors<T extends Record<number, TSchema>>(ok: T) {
  return { ...ok, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply, 409: ErrorReply, 422: ErrorReply, 429: ErrorReply, 500: ErrorReply };
}

export const Uuid = Type.String({ format: 'uuid' });
export const IsoDateTime = Type.String({ format: 'date-time' });
export const JsonValue = Type.Unknown();
