import { Redis } from 'ioredis';

export interface GlidepathEvent {
  type: string;
  data: unknown;
}

export interface EventBus {
  publish(event: GlidepathEvent): Promise<void>;
  /** Calls `listener` for every event published by any process; returns an unsubscribe. */
  subscribe(listener: (event: GlidepathEvent) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * Redis pub/sub fan-out of live events. Delivery is best effort by design: the audit log in
 * PostgreSQL is the record, the stream only spares dashboards from polling it.
 */
/** `prefix` keeps installations that share one Redis (GLIDEPATH_QUEUE_PREFIX) apart. */
export function createRedisEventBus(redisUrl: string, onError: (error: Error) => void, prefix = 'glidepath'): EventBus {
  const channel = `${prefix}:events`;
  // Auto-pipelining sends the events of many jobs finishing together in one write.
  const publisher = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true, enableAutoPipelining: true });
  publisher.on('error', onError);
  let subscriber: Redis | undefined;
  const listeners = new Set<(event: GlidepathEvent) => void>();

  return {
    async publish(event) {
      await publisher.publish(channel, JSON.stringify(event));
    },
    async subscribe(listener) {
      if (!subscriber) {
        subscriber = new Redis(redisUrl, { maxRetriesPerRequest: null });
        subscriber.on('error', onError);
        subscriber.on('message', (_channel: string, message: string) => {
          const event = JSON.parse(message) as GlidepathEvent;
          for (const l of listeners) l(event);
        });
        // Not awaited: the API must start while Redis is down; ioredis subscribes (and
        // re-subscribes after every reconnect) as soon as it can.
        subscriber.subscribe(channel).catch(onError);
      }
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },
    async close() {
      listeners.clear();
      publisher.disconnect();
      subscriber?.disconnect();
    },
  };
}
