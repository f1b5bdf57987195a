import { connect as netConnect, type Socket } from 'node:net';
import { normaliseHost } from '@glidepath/core';
import { pinnedLookup, type AddressVetting } from './address-vetting.ts';

export type SocketAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Resolves with the socket once connected, so that every error before that is the promise's. */
function connected(socket: Socket, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const onAbort = () => socket.destroy(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(socket);
    });
    // Stays attached: an error between 'connect' and the caller's own listener is not thrown.
    socket.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? signal.reason : error);
    });
  });
}

/**
 * A TCP or unix socket through the network policy: a TCP host is resolved and every address
 * checked, then the connection is pinned to them; a unix socket must really (links followed)
 * be under GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS, and the connection goes to that real path.
 */
export function createGuardedConnect(vetting: AddressVetting) {
  return async function guardedConnect(address: SocketAddress, signal?: AbortSignal): Promise<Socket> {
    if (address.kind === 'unix') {
      const realPath = await vetting.vetUnixSocket(address.path);
      return connected(netConnect({ path: realPath }), signal);
    }
    const addresses = await vetting.vetHost(address.host, address.port, signal);
    if (signal?.aborted) throw signal.reason;
    return connected(netConnect({ host: normaliseHost(address.host), port: address.port, lookup: pinnedLookup(addresses) }), signal);
  };
}

/** Straight to the address, no policy: only for test harnesses and the demo, which talk to their own HAProxy. */
export function connectDirectly(address: SocketAddress, signal?: AbortSignal): Promise<Socket> {
  return connected(address.kind === 'unix' ? netConnect({ path: address.path }) : netConnect({ host: address.host, port: address.port }), signal);
}
