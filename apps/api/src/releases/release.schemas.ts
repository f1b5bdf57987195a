import { Type } from 'typebox';

/** Controls wait for the worker to apply them, up to `wait` ms. */
export const ControlQuery = Type.Object({
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 30_000, default: 5000, description: 'ms to wait for the worker to apply it' })),
});
export const ControlReply = Type.Object({
  accepted: Type.Boolean({ description: 'true: queued, not applied yet within wait' }),
  release: Type.Ref('Release'),
  requestId: Type.String({ description: 'GET /audit?requestId= lists the audit events this control caused' }),
  auditEvents: Type.Array(Type.Object({ seq: Type.String(), id: Type.String(), action: Type.String() }), {
    description: 'the audit events recorded so far for this control (none while it is only accepted)',
  }),
});
