import { Readable } from 'node:stream';
import { auditEventJson, auditWhere, listAuditEvents, verifyAuditChain, type AuditFilter, type PrismaClient } from '@glidepath/db';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { AppError } from '../http/app-error.ts';
import { IsoDateTime, JsonValue, seqCursor, withErrors } from '../http/schemas.ts';

const AuditEvent = Type.Object(
  {
    seq: Type.String(),
    id: Type.String(),
    actor: Type.Object({
      type: Type.Union([Type.Literal('user'), Type.Literal('token'), Type.Literal('system')]),
      id: Type.String(),
      name: Type.Optional(Type.String({ description: "a person's email, recorded beside their id" })),
    }),
    action: Type.String(),
    subject: Type.Object({ type: Type.String(), id: Type.String() }),
    environmentId: Type.Union([Type.String(), Type.Null()]),
    before: JsonValue,
    after: JsonValue,
    payload: JsonValue,
    reason: Type.Union([Type.String(), Type.Null()]),
    requestId: Type.Union([Type.String(), Type.Null()]),
    createdAt: IsoDateTime,
    prevHash: Type.String(),
    hash: Type.String(),
  },
  { $id: 'AuditEvent' },
);

const AuditFilterQuery = Type.Object({
  actorId: Type.Optional(Type.String({ minLength: 1 })),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: "who acted: an id, a person's email or a token's name" })),
  actorType: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('token'), Type.Literal('system')])),
  action: Type.Optional(Type.String({ minLength: 1 })),
  subjectType: Type.Optional(Type.String({ minLength: 1 })),
  subjectId: Type.Optional(Type.String({ minLength: 1 })),
  environmentId: Type.Optional(Type.String({ minLength: 1 })),
  service: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: 'service name: its own events and those of its environments' })),
  requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the events one API request caused' })),
  from: Type.Optional(IsoDateTime),
  to: Type.Optional(IsoDateTime),
});

const ListQuery = Type.Object({
  ...AuditFilterQuery.properties,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'nextCursor of the previous page' })),
});

/** Verify walks the whole chain and export streams all of it: a few a minute per caller is plenty. */
const EXPENSIVE_READ = { max: 10, timeWindow: '1 minute' };

async function toFilter(prisma: PrismaClient, { service: serviceName, ...query }: Static<typeof AuditFilterQuery>): Promise<AuditFilter> {
  const from = query.from ? new Date(query.from) : undefined;
  const to = query.to ? new Date(query.to) : undefined;
  if (from && to && from >= to)
    throw new AppError('validation_failed', 'querystring.from: must be before querystring.to', [{ field: 'querystring.from', problem: 'must be before to' }]);
  let service: AuditFilter['service'];
  if (serviceName) {
    const found = await prisma.service.findUnique({ where: { name: serviceName }, select: { id: true, environments: { select: { id: true } } } });
    if (!found) throw new AppError('not_found', `querystring.service: service "${serviceName}" does not exist`, { field: 'querystring.service' });
    service = { id: found.id, environmentIds: found.environments.map((e) => e.id) };
  }
  return { ...query, from, to, service };
}

export function auditRoutes(deps: { prisma: PrismaClient }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.addSchema(AuditEvent);

    app.get(
      '/audit',
      {
        config: { access: { permission: 'audit:read', scope: 'global' } },
        schema: {
          tags: ['audit'],
          summary: 'Audit events, newest first',
          querystring: ListQuery,
          response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('AuditEvent')), nextCursor: Type.Union([Type.String(), Type.Null()]) }) }),
        },
      },
      async (request) => {
        const { limit = 50, cursor, ...rest } = request.query;
        const filter = { ...(await toFilter(deps.prisma, rest)), beforeSeq: seqCursor(cursor) };
        const events = await listAuditEvents(deps.prisma, filter, limit + 1);
        const page = events.slice(0, limit);
        return { items: page.map(auditEventJson), nextCursor: events.length > limit ? page[page.length - 1]!.seq.toString() : null };
      },
    );

    app.get(
      '/audit/verify',
      {
        config: { access: { permission: 'audit:read', scope: 'global' }, rateLimit: EXPENSIVE_READ },
        schema: {
          tags: ['audit'],
          summary: 'Walk the hash chain and report the first broken event',
          response: withErrors({
            200: Type.Object({
              ok: Type.Boolean(),
              checked: Type.Integer(),
              lastSeq: Type.Union([Type.String(), Type.Null()]),
              firstBroken: Type.Optional(Type.Object({ seq: Type.String(), id: Type.String(), problem: Type.String() })),
            }),
          }),
        },
      },
      async () => verifyAuditChain(deps.prisma),
    );

    app.get(
      '/audit/export',
      {
        config: { access: { permission: 'audit:read', scope: 'global' }, rateLimit: EXPENSIVE_READ },
        schema: {
          tags: ['audit'],
          summary: 'All matching events as NDJSON, oldest first',
          querystring: AuditFilterQuery,
          produces: ['application/x-ndjson'],
          response: withErrors({ 200: Type.String({ description: 'one AuditEvent JSON object per line' }) }),
        },
      },
      async (request, reply) => {
        const filter = await toFilter(deps.prisma, request.query);
        async function* lines() {
          let afterSeq = 0n;
          for (;;) {
            const batch = await deps.prisma.auditEvent.findMany({
              where: { ...auditWhere(filter), seq: { gt: afterSeq } },
              orderBy: { seq: 'asc' },
              take: 1000,
            });
            for (const event of batch) yield `${JSON.stringify(auditEventJson(event))}\n`;
            if (batch.length < 1000) return;
            afterSeq = batch[batch.length - 1]!.seq;
          }
        }
        return reply
          .type('application/x-ndjson')
          .header('content-disposition', 'attachment; filename="glidepath-audit.ndjson"')
          .send(Readable.from(lines()) as never); // a stream: the 200 schema documents it, it does not serialise it
      },
    );
  };
}
