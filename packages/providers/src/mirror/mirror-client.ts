import type { MirrorSession, ShadowTally } from '@glidepath/core';
import type { Egress } from '../network/egress.ts';

/** A session as the proxy reports it (mirror-control.ts). */
export interface MirrorSessionView {
  session: string;
  active: boolean;
  config: MirrorSession;
  startedAt: string;
  stoppedAt: string | null;
  stopReason: string | null;
  inFlight: number;
  tally: ShadowTally;
}

export interface MirrorClient {
  /** Opens the session, or keeps it as it is when it is open already (same tally). */
  open(session: MirrorSession): Promise<MirrorSessionView>;
  /** The session, or null when the proxy does not know it (it restarted). */
  read(session: string): Promise<MirrorSessionView | null>;
  /** Stops copying for the session; null when the proxy does not know it (nothing is copied for it then either). */
  stop(session: string): Promise<MirrorSessionView | null>;
}

/** The proxy answered a control call with an error: `status` is its HTTP status (409: the session was stopped). */
export class MirrorControlError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'MirrorControlError';
  }
}

/** Calls a mirroring proxy's control API at `url`, through the network policy; each call within `timeoutMs`. */
export function createMirrorClient(egress: Egress, url: string, options: { token?: string; timeoutMs?: number } = {}): MirrorClient {
  const base = url.replace(/\/+$/, '');
  const call = async (method: string, session: string, body?: unknown): Promise<MirrorSessionView | null> => {
    const response = await egress.fetch(`${base}/sessions/${encodeURIComponent(session)}`, {
      method,
      headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    const text = await response.text();
    if (response.status === 404 && method !== 'PUT') return null;
    if (!response.ok) {
      let message = text.slice(0, 500);
      try {
        message = (JSON.parse(text) as { error: { message: string } }).error.message;
      } catch {
        // not the proxy's JSON error: the text as it came
      }
      throw new MirrorControlError(`the mirroring proxy at ${base} answered ${method} ${response.status}: ${message}`, response.status);
    }
    return JSON.parse(text) as MirrorSessionView;
  };
  return {
    open: async (session) => (await call('PUT', session.session, session))!,
    read: (session) => call('GET', session),
    stop: (session) => call('DELETE', session),
  };
}
