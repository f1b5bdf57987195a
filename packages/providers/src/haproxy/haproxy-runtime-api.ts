import type { Socket } from 'node:net';
import { EgressDeniedError, isEgressDenied } from '../network/egress-denied.ts';

export type RuntimeApiAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** `unix:/run/haproxy/admin.sock`, `tcp:127.0.0.1:9999` or `tcp:[::1]:9999`. */
export function parseRuntimeApiAddress(value: string): RuntimeApiAddress {
  if (value.startsWith('unix:/')) return { kind: 'unix', path: value.slice('unix:'.length) };
  const tcp = /^tcp:(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const port = Number(tcp?.[3]);
  if (tcp && port >= 1 && port <= 65_535) return { kind: 'tcp', host: (tcp[1] ?? tcp[2])!, port };
  throw new Error(`HAProxy runtime API address "${value}" must look like unix:/path/to.sock or tcp:host:port`);
}

/** Opens the connection: the network policy's (Egress.connect), or connectDirectly in test harnesses. */
export type SocketOpener = (address: RuntimeApiAddress, signal: AbortSignal) => Promise<Socket>;

/**
 * Sends one command to HAProxy's runtime API on a fresh connection and returns the reply
 * text once HAProxy closes it (it does after every command outside interactive mode).
 *
 * One connection per command is deliberate: on loopback it costs about a millisecond, and
 * it survives HAProxy restarts and reloads without any reconnect logic. A kept-open
 * interactive session (`prompt`) would save that millisecond but would have to detect a
 * dead socket, and split replies whose terminators are not consistent in 2.6 (some error
 * replies end with one newline, others with a blank line).
 */
export async function runtimeApiCommand(address: string, command: string, timeoutMs: number, open: SocketOpener): Promise<string> {
  // `;` and newlines separate commands on the CLI: one call, one command.
  if (/[\r\n;]/.test(command)) throw new Error(`refusing to send a multi-command line to HAProxy: ${JSON.stringify(command)}`);
  const where = parseRuntimeApiAddress(address);
  const deadline = AbortSignal.timeout(timeoutMs);
  const timedOut = () => new Error(`HAProxy runtime API at ${address} did not answer "${command}" within ${timeoutMs} ms`);
  const failed = (error: NodeJS.ErrnoException) => {
    const reason = error.code ? `${error.code}: ${error.message}` : error.message;
    return new Error(`HAProxy runtime API at ${address} failed on "${command}" (${reason}); is HAProxy running with "stats socket … level admin" there?`);
  };
  let socket: Socket;
  try {
    socket = await open(where, deadline);
  } catch (error) {
    if (deadline.aborted) throw timedOut();
    if (isEgressDenied(error)) throw new EgressDeniedError(`HAProxy runtime API at ${address}: ${error.reason}`);
    throw failed(error as NodeJS.ErrnoException);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      deadline.removeEventListener('abort', onTimeout);
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onTimeout = () => finish(timedOut());
    if (deadline.aborted) return finish(timedOut());
    deadline.addEventListener('abort', onTimeout, { once: true });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('error', (error: NodeJS.ErrnoException) => finish(failed(error)));
    socket.write(`${command}\n`);
  });
}
