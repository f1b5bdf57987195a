import { isIP } from 'node:net';
import { posix } from 'node:path';
import { Refusal } from './config-error.ts';
import { shownValue } from './value-types.ts';

/**
 * One entry of GLIDEPATH_EGRESS_ALLOW / _DENY as the network policy reads it: an address
 * range (`10.0.0.0/8`, `fd00::/8`), one address, or a host name, each optionally limited to
 * one port (`10.0.0.0/8:443`, `[fd00::/8]:443`, `hooks.example.com:443`). IPv6 with a port
 * goes in brackets, as in a URL. Host names are lower-cased (DNS names ignore case).
 */
export type EgressEntry =
  | { kind: 'cidr'; address: string; prefix: number; family: 4 | 6; port: number | undefined }
  | { kind: 'ip'; address: string; family: 4 | 6; port: number | undefined }
  | { kind: 'host'; host: string; port: number | undefined };

const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** The entry, or why it is not one (the config loader and the policy share this grammar). */
export function parseEgressEntry(entry: string): EgressEntry | { problem: string } {
  let target = entry;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(entry);
  if (bracketed) {
    target = bracketed[1]!;
    portText = bracketed[2];
    if (isIP(target.split('/')[0]!) !== 6) return { problem: 'brackets are for IPv6 addresses' };
  } else if (entry.split(':').length === 2) {
    [target, portText] = entry.split(':') as [string, string];
  }
  // More than one colon without brackets: a bare IPv6 address or range, which cannot carry a port.
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) return { problem: 'the port must be 1-65535' };
  }
  const slash = target.indexOf('/');
  if (slash !== -1) {
    const address = target.slice(0, slash);
    const family = isIP(address) as 0 | 4 | 6;
    if (family === 0) return { problem: 'a range must start with an IP address' };
    const max = family === 4 ? 32 : 128;
    const prefixText = target.slice(slash + 1);
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= max)) return { problem: `the prefix length must be 0-${max}` };
    return { kind: 'cidr', address, prefix, family, port };
  }
  const family = isIP(target) as 0 | 4 | 6;
  if (family !== 0) return { kind: 'ip', address: target, family, port };
  const labels = target.replace(/\.$/, '').split('.');
  // An all-digit last label is a mistyped IPv4 address (10.0.0.256), never a real host name.
  if (target.length > 253 || !labels.every((label) => HOST_LABEL.test(label)) || /^\d+$/.test(labels.at(-1)!))
    return { problem: 'not an IP address, a range or a host name' };
  return { kind: 'host', host: target.toLowerCase(), port };
}

export const EGRESS_RULE = 'a comma-separated list of CIDR ranges, IP addresses or host names, each optionally with :port (IPv6 with a port in brackets)';

export function checkEgressEntry(entry: string): string {
  const parsed = parseEgressEntry(entry);
  if ('problem' in parsed) throw new Refusal(`${shownValue(entry)} (${parsed.problem})`);
  return entry;
}

export const SOCKET_DIRS_RULE = 'a comma-separated list of absolute directories without ".." parts';

/** Kept normalised (`/run/x/` is `/run/x`), so the policy can compare by prefix. */
export function checkSocketDir(entry: string): string {
  if (!posix.isAbsolute(entry) || entry.split('/').includes('..') || entry.includes('\0')) throw new Refusal(shownValue(entry));
  const normal = posix.normalize(entry);
  return normal.length > 1 ? normal.replace(/\/$/, '') : normal;
}
