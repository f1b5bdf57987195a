import { parseEgressEntry } from '@glidepath/core';
import { posix } from 'node:path';
import { Refusal } from './config-error.ts';
import { shownValue } from './value-types.ts';

export const EGRESS_RULE = 'a comma-separated list of CIDR ranges, IP addresses or host names, each optionally with :port (IPv6 with a port in brackets)';

/** The network policy's own grammar (core), so an entry that loads is one the policy can read. */
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
