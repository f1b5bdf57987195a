import { parseRange, type IpRange } from './ip-address.ts';

/**
 * One entry of GLIDEPATH_EGRESS_ALLOW / _DENY: an address range (`10.0.0.0/8`, `fd00::/8`),
 * one address, or a host name, each optionally limited to one port (`10.0.0.0/8:443`,
 * `[fd00::/8]:443`, `hooks.example.com:443`). IPv6 with a port goes in brackets, as in a URL.
 * The same grammar as the config loader's check, so what loads is what the policy reads.
 */
export type EgressEntry = { kind: 'range'; range: IpRange; port: number | null } | { kind: 'host'; host: string; port: number | null };

const HOST_LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i;

export function parseEgressEntry(entry: string): EgressEntry | { problem: string } {
  let target = entry.trim();
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(target);
  if (bracketed) {
    target = bracketed[1]!;
    portText = bracketed[2];
    if (!target.split('/')[0]!.includes(':')) return { problem: 'brackets are for IPv6 addresses' };
  } else if (target.split(':').length === 2) {
    [target, portText] = target.split(':') as [string, string];
  }
  // More than one colon without brackets: a bare IPv6 address or range, which cannot carry a port.
  let port: number | null = null;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) return { problem: 'the port must be 1-65535' };
  }
  if (target.includes('/') || /^[\d.]+$/.test(target) || target.includes(':')) {
    const range = parseRange(target);
    return range ? { kind: 'range', range, port } : { problem: 'not an IP address or a range (10.0.0.0/8, fd00::/8)' };
  }
  const host = normaliseHost(target);
  const labels = host.split('.');
  // An all-digit last label is a mistyped IPv4 address (10.0.0.256), never a real host name.
  if (host.length > 253 || !labels.every((label) => HOST_LABEL.test(label)) || /^\d+$/.test(labels.at(-1)!))
    return { problem: 'not an IP address, a range or a host name' };
  return { kind: 'host', host, port };
}

/** DNS names ignore case and a final dot; URL hosts put IPv6 in brackets. */
export function normaliseHost(host: string): string {
  return host
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}

/** `localhost` and every name under it (RFC 6761) mean this machine's loopback. */
export function isLoopbackName(host: string): boolean {
  const name = normaliseHost(host);
  return name === 'localhost' || name.endsWith('.localhost');
}
