import { networkInterfaces } from 'node:os';
import type { Socket } from 'node:net';
import { parseNetworkPolicy, type EgressDecision, type EgressSettings, type NetworkPolicy, type OutboundTarget } from '@glidepath/core';
import { createAddressVetting } from './address-vetting.ts';
import { isEgressDenied } from './egress-denied.ts';
import { createGuardedConnect, type SocketAddress } from './guarded-connect.ts';
import { createGuardedFetch, type EgressRequestInit } from './guarded-fetch.ts';

/** Every outbound call of the API and the worker goes through one of these (ARCHITECTURE.md). */
export interface Egress {
  /** fetch, checked and pinned; a refusal is an EgressDeniedError thrown before any connection. */
  fetch(url: string | URL, init?: EgressRequestInit): Promise<Response>;
  /** A connected TCP or unix socket, checked the same way. */
  connect(address: SocketAddress, signal?: AbortSignal): Promise<Socket>;
  /**
   * The registration-time check: a URL's or address's host as written, then (within
   * `resolveTimeoutMs`) every address it resolves to. A name that does not resolve is not
   * refused here: the call checks again when it is made.
   */
  check(target: OutboundTarget): Promise<EgressDecision>;
}

export interface EgressOptions {
  /** DATABASE_URL and REDIS_URL: the control plane's own services, denied by default. */
  databaseUrl?: string;
  redisUrl?: string;
  /** How long registration waits for DNS (default 1000 ms). */
  resolveTimeoutMs?: number;
}

/** This machine's addresses: loopback services listening on every address answer there too. */
function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

/** The policy from GLIDEPATH_EGRESS_*; throws with every bad entry named (the config loader checks the same grammar first). */
export function egressPolicy(settings: EgressSettings, options: EgressOptions = {}): NetworkPolicy {
  const parsed = parseNetworkPolicy(settings, { databaseUrl: options.databaseUrl, redisUrl: options.redisUrl, localAddresses: localAddresses() });
  if (!parsed.ok) throw new Error(`invalid network policy: ${parsed.problems.join('; ')}`);
  return parsed.policy;
}

export function createEgress(settings: EgressSettings, options: EgressOptions = {}): Egress {
  const vetting = createAddressVetting(egressPolicy(settings, options));
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 1000;

  async function checkHost(host: string, port: number): Promise<EgressDecision> {
    const byName = await vetting.checkName(host, port);
    if (!byName.allowed) return byName;
    try {
      await vetting.vetHost(host, port, AbortSignal.timeout(resolveTimeoutMs));
      return { allowed: true };
    } catch (error) {
      // Not resolved in time, or not at all: the call itself checks again.
      return isEgressDenied(error) ? { allowed: false, reason: error.reason } : { allowed: true };
    }
  }

  return {
    fetch: createGuardedFetch(vetting),
    connect: createGuardedConnect(vetting),
    async check(target) {
      if (target.kind === 'unix') return vetting.checkUnixSocketPath(target.path);
      if (target.kind === 'tcp') return checkHost(target.host, target.port);
      let url: URL;
      try {
        url = new URL(target.url);
      } catch {
        return { allowed: false, reason: `${target.url} is not a URL` };
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return { allowed: false, reason: `only http and https URLs are called, not ${url.protocol}` };
      return checkHost(url.hostname, Number(url.port || (url.protocol === 'https:' ? 443 : 80)));
    },
  };
}
