import { Readable } from 'node:stream';
import { auditEventJson, auditWhere, readAuditPage, sqlPool, verifyAuditChain, type AuditFilter, type PrismaClient } from '@glidepath/db';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { AppError } from '../http/app-error.ts';
import { sendJsonText } from '../http/json-text-reply.ts';
import { IsoDateTime, JsonValue, seqCursor, withErrors } from '../http/schemas.ts';

export const AuditEvent = Type.Object(
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

function timeRange(query: { from?: string; to?: string }): { from?: Date; to?: Date } {
  const from = query.from ? new Date(query.from) : undefined;
  const to = query.to ? new Date(query.to) : undefined;
  if (from && to && from >= to)
    throw new AppError('validation_failed', 'querystring.from: must be before querystring.to', [{ field: 'querystring.from', problem: 'must be before to' }]);
  return { from, to };
}

const noSuchService = (name: string) => new AppError('not_found', `querystring.service: service "${name}" does not exist`, { field: 'querystring.service' });

async function toFilter(prisma: PrismaClient, { service: serviceName, from, to, ...query }: Static<typeof AuditFilterQuery>): Promise<AuditFilter> {
  const range = timeRange({ from, to });
  let service: AuditFilter['service'];
  if (serviceName) {
    const found = await prisma.service.findUnique({ where: { name: serviceName }, select: { id: true, environments: { select: { id: true } } } });
    if (!found) throw noSuchService(serviceName);
    service = { id: found.id, environmentIds: found.environments.map((e) => e.id) };
  }
  return { ...query, ...range, service };
}

export function auditRoutes(deps: { prisma: PrismaClient }) {
  const pool = sqlPool(deps.prisma);
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
      // The page is one statement that writes the reply's JSON (packages/db audit-read.repository.ts).
      async (request, reply) => {
        const { limit = 50, cursor, service, from, to, ...rest } = request.query;
        const filter = { ...rest, ...timeRange({ from, to }), serviceName: service, beforeSeq: seqCursor(cursor) };
        const page = await readAuditPage(pool, filter, limit);
        if (page === null) throw noSuchService(service!);
        return sendJsonText(reply, page);
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
