import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { approvalsKey } from './actions.ts';
import { boardKey, catalogKey } from './catalog.ts';
import { refetchThrottled } from './refetch-throttled.ts';
import { auditLogKey, prependAuditEvent } from './audit.ts';
import { drillsKey } from './drills.ts';
import { applyReleaseUpdate, insertCreatedRelease, invalidateRelease, markUndone, releasesKey } from './releases.ts';
import type { AnalysisMeasured, AuditEvent, ReleaseUpdate, StreamMessage } from './model.ts';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting';

const handlers: Record<string, (queryClient: QueryClient, data: unknown) => void> = {
  'audit.appended': (queryClient, data) => {
    const event = data as AuditEvent;
    prependAuditEvent(queryClient, event);
    // A new release emits no release.updated until the engine starts it.
    if (event.action === 'release.created') {
      void insertCreatedRelease(queryClient, event.subject.id);
      refetchThrottled(queryClient, boardKey);
    }
    const undoneBy = (event.payload as { rollbackRelease?: unknown } | null)?.rollbackRelease;
    if (event.action === 'release.rollback-started' && typeof undoneBy === 'string') markUndone(queryClient, event.subject.id, undoneBy);
    // Services, environments, artifacts and plans change only through audited requests.
    if (/^(service|environment|artifact|plan)\./.test(event.action)) void queryClient.invalidateQueries({ queryKey: catalogKey });
    // A release deploys to an environment's idle slot, makes it live or switches back: what its slots hold changes.
    else if (event.action.startsWith('release.') && event.environmentId)
      void queryClient.invalidateQueries({ queryKey: [...catalogKey, 'environment', event.environmentId] });
    // A drill started (on schedule, or by someone else), waiting, or over: that environment's history.
    if (event.action.startsWith('drill.') && event.environmentId) void queryClient.invalidateQueries({ queryKey: drillsKey(event.environmentId) });
  },
  'release.updated': (queryClient, data) => {
    applyReleaseUpdate(queryClient, data as ReleaseUpdate);
    refetchThrottled(queryClient, boardKey);
    // A release entering or leaving an approval step changes the approvals inbox.
    void queryClient.invalidateQueries({ queryKey: approvalsKey });
  },
  'analysis.measured': (queryClient, data) => invalidateRelease(queryClient, (data as AnalysisMeasured).releaseId),
};

function backoffMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
}

/**
 * One websocket to /api/v1/stream that patches the query cache as events arrive, and
 * reconnects with exponential backoff. Events sent while it was down are lost, so after a
 * reconnect the audit log and the releases are fetched again once.
 */
export function useLiveStream(): StreamStatus {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<StreamStatus>('connecting');

  useEffect(() => {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/stream`;
    let socket: WebSocket;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let missedEvents = false;
    let stopped = false;

    const connect = () => {
      socket = new WebSocket(url);
      socket.onopen = () => {
        attempt = 0;
        setStatus('live');
        if (missedEvents) {
          void queryClient.invalidateQueries({ queryKey: auditLogKey });
          void queryClient.invalidateQueries({ queryKey: releasesKey });
          void queryClient.invalidateQueries({ queryKey: catalogKey });
        }
      };
      socket.onmessage = (message: MessageEvent<string>) => {
        let parsed: StreamMessage;
        try {
          parsed = JSON.parse(message.data) as StreamMessage;
        } catch {
          return;
        }
        handlers[parsed.type]?.(queryClient, parsed.data);
      };
      socket.onclose = () => {
        if (stopped) return;
        missedEvents = true;
        setStatus('reconnecting');
        retry = setTimeout(connect, backoffMs(attempt++));
      };
    };
    connect();

    return () => {
      stopped = true;
      clearTimeout(retry);
      socket.close();
    };
  }, [queryClient]);

  return status;
}
