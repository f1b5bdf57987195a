import { redactUrlCredentials, visibleScopes } from '@glidepath/core';
import { checkApiToken, checkSession, type EventBus, type GlidepathEvent, type PrismaClient, type SessionLimits } from '@glidepath/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { bearerSecret, SESSION_COOKIE } from '../identity/authenticate.ts';
import { isIdentityChange } from '../identity/identity-cache.ts';
import { readableResources, type Readable } from '../identity/route-access.ts';
import type { ApiMetrics } from '../metrics.ts';
import { ErrorReply, withErrors } from '../http/schemas.ts';

const CLOSE_UNAUTHORIZED = 4401;

interface Client {
  socket: WebSocket;
  request: FastifyRequest;
  readable: Readable;
}

/**
 * Live events for dashboards. Every API instance subscribes to the Redis channel and
 * forwards what any process published to its own websocket clients, each seeing only what it
 * may read. When a credential is revoked or rights change, open streams are checked again.
 */
export function streamRoutes(deps: { bus: EventBus; metrics: ApiMetrics; prisma: PrismaClient; sessions: SessionLimits }) {
  return async (app: FastifyInstance) => {
    const clients = new Set<Client>();
    const releaseEnvironment = new Map<string, string>();

    async function environmentOfRelease(releaseId: string): Promise<string | undefined> {
      if (!releaseEnvironment.has(releaseId)) {
        const release = await deps.prisma.release.findUnique({ where: { id: releaseId }, select: { environmentId: true } }).catch(() => null);
        if (!release) return undefined;
        if (releaseEnvironment.size > 10_000) releaseEnvironment.clear();
        releaseEnvironment.set(releaseId, release.environmentId);
      }
      return releaseEnvironment.get(releaseId);
    }

    async function visibleTo(readable: Readable, event: GlidepathEvent): Promise<boolean> {
      if (readable === 'all') return true;
      const data = event.data as { environmentId?: string; releaseId?: string };
      // The audit log is for global readers only.
      if (event.type === 'audit.appended') return false;
      const environmentId = data.environmentId ?? (data.releaseId ? await environmentOfRelease(data.releaseId) : undefined);
      return environmentId !== undefined && readable.environmentIds.includes(environmentId);
    }

    /** Still the same valid identity with the same rights? Closes the stream when not. */
    async function recheck(client: Client) {
      const { request } = client;
      const bearer = bearerSecret(request.headers.authorization);
      const cookie = request.cookies[SESSION_COOKIE];
      const check = bearer ? await checkApiToken(deps.prisma, bearer) : cookie ? await checkSession(deps.prisma, cookie, deps.sessions) : null;
      if (!check?.ok) return client.socket.close(CLOSE_UNAUTHORIZED, 'credential no longer valid');
      request.identity = { ...request.identity!, grants: check.grants };
      client.readable = await readableResources(deps.prisma, request);
    }

    const unsubscribe = await deps.bus.subscribe((event) => {
      const message = JSON.stringify(redactUrlCredentials(event));
      for (const client of clients) {
        if (client.socket.readyState !== client.socket.OPEN) continue;
        void visibleTo(client.readable, event).then((visible) => visible && client.socket.send(message));
      }
      // A credential revoked or rights changed: open streams are checked again.
      if (isIdentityChange(event)) {
        for (const client of clients) void recheck(client).catch(() => client.socket.close(CLOSE_UNAUTHORIZED, 'could not check the credential again'));
      }
    });
    app.addHook('onClose', async () => {
      await unsubscribe();
      for (const { socket } of clients) socket.close(1001, 'server shutting down');
    });

    app.route({
      method: 'GET',
      url: '/stream',
      config: { access: { permission: 'read', scope: 'any' } },
      schema: {
        tags: ['stream'],
        summary: 'Websocket of live events ({ type, data } JSON messages), each only if the caller may read it',
        response: withErrors({ 426: ErrorReply }),
      },
      // A plain GET gets the error model and what to do, not an empty 404.
      handler: async (request, reply) =>
        reply
          .status(426)
          .header('upgrade', 'websocket')
          .send({
            error: { code: 'upgrade_required', message: 'this is a websocket: connect with an Upgrade: websocket request', requestId: request.id },
          }),
      wsHandler: async (socket, request) => {
        // A global reader sees everything at once; a scoped one once its environments are looked up.
        const global = visibleScopes(request.identity!.grants, 'read') === 'all';
        const client: Client = { socket, request, readable: global ? 'all' : { serviceIds: [], environmentIds: [] } };
        clients.add(client);
        deps.metrics.streamClients.inc({ event: 'opened' });
        socket.on('close', () => {
          clients.delete(client);
          deps.metrics.streamClients.inc({ event: 'closed' });
        });
        if (!global) client.readable = await readableResources(deps.prisma, request);
      },
    });
  };
}
