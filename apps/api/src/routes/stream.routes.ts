import type { EventBus } from '@glidepath/db';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { ApiMetrics } from '../metrics.ts';

/**
 * Live events for dashboards. Every API instance subscribes to the Redis channel and
 * forwards what any process published to its own websocket clients.
 */
export function streamRoutes(deps: { bus: EventBus; metrics: ApiMetrics }) {
  return async (app: FastifyInstance) => {
    const clients = new Set<WebSocket>();
    const unsubscribe = await deps.bus.subscribe((event) => {
      const message = JSON.stringify(event);
      for (const socket of clients) if (socket.readyState === socket.OPEN) socket.send(message);
    });
    app.addHook('onClose', async () => {
      await unsubscribe();
      for (const socket of clients) socket.close(1001, 'server shutting down');
    });

    app.get(
      '/stream',
      {
        websocket: true,
        config: { access: { permission: 'read', scope: 'any' } },
        schema: { tags: ['stream'], summary: 'Websocket of live events ({ type, data } JSON messages)' },
      },
      (socket) => {
        clients.add(socket);
        deps.metrics.streamClients.inc({ event: 'opened' });
        socket.on('close', () => {
          clients.delete(socket);
          deps.metrics.streamClients.inc({ event: 'closed' });
        });
      },
    );
  };
}
