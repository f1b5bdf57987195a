import { connect } from 'node:net';

export type RuntimeApiAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** `unix:/run/haproxy/admin.sock`, `tcp:127.0.0.1:9999` or `tcp:[::1]:9999`. */
export function parseRuntimeApiAddress(value: string): RuntimeApiAddress {
  if (value.startsWith('unix:/')) return { kind: 'unix', path: value.slice('unix:'.length) };
  const tcp = /^tcp:(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const port = Number(tcp?.[3]);
  if (tcp && port >= 1 && port <= 65_535) return { kind: 'tcp', host: (tcp[1] ?? tcp[2])!, port };
  throw new Error(`HAProxy runtime API address "${value}" must look like unix:/path/to.sock or tcp:host:port`);
}

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
export function runtimeApiCommand(address: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // `;` and newlines separate commands on the CLI: one call, one command.
    if (/[\r\n;]/.test(command)) throw new Error(`refusing to send a multi-command line to HAProxy: ${JSON.stringify(command)}`);
    const where = parseRuntimeApiAddress(address);
    const socket = where.kind === 'unix' ? connect({ path: where.path }) : connect({ host: where.host, port: where.port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(() => finish(new Error(`HAProxy runtime API at ${address} did not answer "${command}" within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code ? `${error.code}: ${error.message}` : error.message;
      finish(new Error(`HAProxy runtime API at ${address} failed on "${command}" (${reason}); is HAProxy running with "stats socket … level admin" there?`));
    });
  });
}
