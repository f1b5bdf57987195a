import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { readlink, realpath } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { checkDestination, checkUnixSocket, normaliseHost, normalisePath, policyHostNames, type EgressDecision, type NetworkPolicy } from '@glidepath/core';
import { EgressDeniedError } from './egress-denied.ts';

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/** How long the addresses of names the policy itself lists (a DATABASE_URL host, a denied name) are kept. */
const POLICY_NAMES_TTL_MS = 30_000;
/** A DNS server that does not answer must not hold every call up: such a name then matches by name only. */
const POLICY_NAMES_LOOKUP_MS = 2000;

/** Rejects with the signal's reason once it aborts, so a slow DNS answer does not outlast the call's timeout. */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Resolves and checks destinations against one policy. Every address a name resolves to must
 * be allowed, and the connection is then pinned to those addresses (pinnedLookup), so a
 * second DNS answer cannot swap in another one between the check and the connect.
 */
export function createAddressVetting(policy: NetworkPolicy) {
  let policyNames: { at: number; resolved: Map<string, string[]> } | null = null;

  async function resolvedPolicyNames(signal?: AbortSignal): Promise<Map<string, string[]>> {
    if (policyNames && Date.now() - policyNames.at < POLICY_NAMES_TTL_MS) return policyNames.resolved;
    const names = policyHostNames(policy);
    if (names.length === 0) return new Map();
    const deadline = AbortSignal.timeout(POLICY_NAMES_LOOKUP_MS);
    let failed = false;
    const entries = await Promise.all(
      names.map(async (name) => {
        // A name that does not resolve now stands for no address; it still matches by name.
        const found = await abortable(abortable(lookup(name, { all: true }), deadline), signal).catch(() => ((failed = true), []));
        return [name, found.map((a) => a.address)] as const;
      }),
    );
    // A failed lookup is tried again after a few seconds, not kept for the whole TTL.
    policyNames = { at: Date.now() - (failed ? POLICY_NAMES_TTL_MS - 3000 : 0), resolved: new Map(entries) };
    return policyNames.resolved;
  }

  async function decide(host: string, ip: string | undefined, port: number, signal?: AbortSignal): Promise<EgressDecision> {
    return checkDestination(policy, { host, ip, port }, await resolvedPolicyNames(signal));
  }

  /** Only a host name's own verdict, without resolving it: for registration when DNS does not answer. */
  async function checkName(host: string, port: number, signal?: AbortSignal): Promise<EgressDecision> {
    return decide(host, undefined, port, signal);
  }

  /** The addresses a call to host:port may connect to; throws EgressDeniedError when any is denied. */
  async function vetHost(hostname: string, port: number, signal?: AbortSignal): Promise<CheckedAddress[]> {
    const host = normaliseHost(hostname);
    const family = isIP(host);
    const addresses: CheckedAddress[] = family
      ? [{ address: host, family: family as 4 | 6 }]
      : (await abortable(lookup(host, { all: true, verbatim: true }), signal)).map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    for (const { address } of addresses) {
      const decision = await decide(host, address, port, signal);
      if (!decision.allowed) throw new EgressDeniedError(decision.reason);
    }
    return addresses;
  }

  /** Each configured socket directory's real path (/var/run is often /run), read now: directories come and go. */
  async function realDirs(): Promise<(dir: string) => string> {
    const dirs = [...policy.unixSocketDirs, ...policy.deniedSocketDirs.map((d) => d.dir)];
    const real = new Map(await Promise.all(dirs.map(async (dir) => [dir, await realpath(dir).catch(() => dir)] as const)));
    return (dir) => real.get(dir) ?? dir;
  }

  /** The real path to connect to; throws EgressDeniedError outside the allowed directories, or the fs error when there is no socket. */
  async function vetUnixSocket(path: string): Promise<string> {
    const realPath = await realpath(path);
    const decision = checkUnixSocket(policy, { path, realPath }, await realDirs());
    if (!decision.allowed) throw new EgressDeniedError(decision.reason);
    return realPath;
  }

  /** At registration the socket may not exist yet: judge where it would really be, following links even to nothing. */
  async function checkUnixSocketPath(path: string): Promise<EgressDecision> {
    return checkUnixSocket(policy, { path, realPath: await wouldBe(normalisePath(path)) }, await realDirs());
  }

  return { vetHost, vetUnixSocket, checkName, checkUnixSocketPath, decide };
}
export type AddressVetting = ReturnType<typeof createAddressVetting>;

/**
 * The real path of a socket that may not exist yet: realpath when it does; a link to nothing
 * (docker.sock -> /var/run/docker.sock before Docker runs) by where it points; otherwise its
 * directory's real path.
 */
async function wouldBe(path: string, hops = 0): Promise<string> {
  const real = await realpath(path).catch(() => null);
  if (real) return real;
  const target = hops < 20 ? await readlink(path).catch(() => null) : null;
  if (target !== null) return wouldBe(normalisePath(target.startsWith('/') ? target : `${dirname(path)}/${target}`), hops + 1);
  const dir = await realpath(dirname(path)).catch(() => dirname(path));
  return `${dir === '/' ? '' : dir}/${basename(path)}`;
}

/** A lookup that answers only with the addresses already checked, for http.request and net.connect. */
export function pinnedLookup(addresses: CheckedAddress[]): LookupFunction {
  return ((_hostname: string, options: { all?: boolean; family?: number | string }, callback: (...args: unknown[]) => void) => {
    const family = options?.family === 'IPv4' ? 4 : options?.family === 'IPv6' ? 6 : Number(options?.family ?? 0);
    const usable = family ? addresses.filter((a) => a.family === family) : addresses;
    if (usable.length === 0) {
      callback(Object.assign(new Error(`no IPv${family} address among the checked ones`), { code: 'ENOTFOUND' }));
      return;
    }
    if (options?.all) callback(null, usable);
    else callback(null, usable[0]!.address, usable[0]!.family);
  }) as unknown as LookupFunction;
}
