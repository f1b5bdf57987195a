import { isLoopbackName, normaliseHost, parseEgressEntry } from './egress-entry.ts';
import { formatIp, inRange, parseIp, parseRange, type IpBytes, type IpRange } from './ip-address.ts';

/** What the configuration says (GLIDEPATH_EGRESS_ALLOW, _DENY, _UNIX_SOCKET_DIRS). */
export interface EgressSettings {
  allow: readonly string[];
  deny: readonly string[];
  unixSocketDirs: readonly string[];
}

/**
 * The control plane's own services, denied by default: a webhook or a router pointed at them
 * would let an admin speak PostgreSQL's or Redis's protocol with Glidepath's network position.
 */
export interface OwnEndpoints {
  databaseUrl?: string;
  redisUrl?: string;
  /**
   * This machine's own addresses (its network interfaces): a service on loopback that listens
   * on every address answers there too, so they count as loopback.
   */
  localAddresses?: readonly string[];
}

type Where = { kind: 'range'; range: IpRange } | { kind: 'loopback' } | { kind: 'host'; host: string };
interface Rule {
  where: Where;
  port: number | null;
  /** Why it is denied (built-in rules), or the entry as configured. */
  says: string;
}

export interface NetworkPolicy {
  readonly allow: readonly Rule[];
  readonly deny: readonly Rule[];
  readonly builtIn: readonly Rule[];
  readonly unixSocketDirs: readonly string[];
  readonly deniedSocketDirs: ReadonlyArray<{ dir: string; says: string }>;
  readonly localAddresses: readonly IpBytes[];
}

export type EgressDecision = { allowed: true } | { allowed: false; reason: string };

/** Where a call goes: the host name as written (when it is one), the address it resolved to, the port. */
export interface Destination {
  host?: string;
  ip?: string;
  port: number;
}

const ALLOW_HINT = 'add it to GLIDEPATH_EGRESS_ALLOW to allow it';

const BUILT_IN: Array<[string, string]> = [
  ['169.254.0.0/16', 'is link-local, where cloud metadata services answer (169.254.169.254)'],
  ['fe80::/10', 'is IPv6 link-local'],
  ['fd00:ec2::254', 'is the cloud metadata service (IPv6)'],
  ['0.0.0.0/8', 'is "this host" (a call to it reaches whatever listens locally)'],
  ['::', 'is the unspecified address (a call to it reaches whatever listens locally)'],
];

const LOOPBACK = [parseRange('127.0.0.0/8')!, parseRange('::1')!];

/** The usual names of this machine's loopback; a service on one of them usually answers on all. */
const LOOPBACK_SPELLINGS = [parseIp('127.0.0.1')!, parseIp('::1')!];

/**
 * `anyLoopback`: every loopback address stands for all of loopback (the control plane's own
 * endpoints); otherwise only 127.0.0.1, ::1 and localhost do, so that an entry for 127.0.0.2
 * still means just that address.
 */
function ruleFor(entry: string, says: string, anyLoopback = false): Rule | { problem: string } {
  const parsed = parseEgressEntry(entry);
  if ('problem' in parsed) return parsed;
  const single = parsed.kind === 'range' && parsed.range.bits === 128;
  const loopback =
    parsed.kind === 'host'
      ? isLoopbackName(parsed.host)
      : single &&
        (anyLoopback
          ? LOOPBACK.some((range) => inRange(parsed.range.base, range))
          : LOOPBACK_SPELLINGS.some((ip) => ip.every((b, i) => b === parsed.range.base[i])));
  // 127.0.0.1, ::1 and localhost are one place: a service there answers on all of them.
  const where: Where = loopback ? { kind: 'loopback' } : parsed.kind === 'host' ? { kind: 'host', host: parsed.host } : { kind: 'range', range: parsed.range };
  return { where, port: parsed.port, says };
}

function ownEndpoint(url: string | undefined, defaultPort: number, what: string): { rule?: Rule; socketDir?: string } {
  if (!url) return {};
  // postgresql://user@/db?host=/var/run/postgresql: the database is behind a unix socket in that
  // directory (a URL the WHATWG parser refuses, with its empty host, so read by hand).
  const socketDir = /[?&]host=(%2F|\/)([^&#]*)/i.exec(url);
  if (socketDir) {
    try {
      return { socketDir: normalisePath(decodeURIComponent(`/${socketDir[2]}`)) };
    } catch {
      return { socketDir: normalisePath(`/${socketDir[2]}`) };
    }
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {};
  }
  const host = normaliseHost(parsed.hostname);
  if (!host) return {};
  const port = parsed.port ? Number(parsed.port) : defaultPort;
  const entry = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const rule = ruleFor(entry, `is the control plane's own ${what}`, true);
  return 'problem' in rule ? {} : { rule };
}

/**
 * The policy every outbound call is checked against. Order: an explicit deny wins, then an
 * explicit allow, then the built-in denials (link-local, metadata, "this host", the control
 * plane's own database and Redis); everything else is allowed, loopback included (HAProxy's
 * runtime API and Prometheus often live there).
 */
export function parseNetworkPolicy(settings: EgressSettings, own: OwnEndpoints = {}): { ok: true; policy: NetworkPolicy } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const rules = (entries: readonly string[], variable: string) =>
    entries.flatMap((entry) => {
      const rule = ruleFor(entry, entry);
      if ('problem' in rule) {
        problems.push(`${variable}: "${entry}" ${rule.problem}`);
        return [];
      }
      return [rule];
    });
  const allow = rules(settings.allow, 'GLIDEPATH_EGRESS_ALLOW');
  const deny = rules(settings.deny, 'GLIDEPATH_EGRESS_DENY');
  const builtIn = BUILT_IN.map(([entry, says]) => ruleFor(entry, says) as Rule);
  const database = ownEndpoint(own.databaseUrl, 5432, 'database (DATABASE_URL)');
  const redis = ownEndpoint(own.redisUrl, 6379, 'Redis (REDIS_URL)');
  for (const endpoint of [database, redis]) if (endpoint.rule) builtIn.push(endpoint.rule);
  const unixSocketDirs = settings.unixSocketDirs.map((dir) => {
    if (!dir.startsWith('/')) problems.push(`GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS: "${dir}" is not an absolute directory`);
    return normalisePath(dir);
  });
  const localAddresses = (own.localAddresses ?? []).map((a) => parseIp(a)).filter((a): a is IpBytes => a !== null);
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    policy: {
      allow,
      deny,
      builtIn,
      unixSocketDirs,
      deniedSocketDirs: database.socketDir ? [{ dir: database.socketDir, says: "is the control plane's own database socket (DATABASE_URL)" }] : [],
      localAddresses,
    },
  };
}

/** Host names the rules name: resolve them and pass the addresses to checkDestination, so a name's address is the name. */
export function policyHostNames(policy: NetworkPolicy): string[] {
  const names = [...policy.allow, ...policy.deny, ...policy.builtIn].flatMap((r) => (r.where.kind === 'host' ? [r.where.host] : []));
  return [...new Set(names)];
}

function matches(
  rule: Rule,
  host: string | undefined,
  ip: IpBytes | null,
  port: number,
  policy: NetworkPolicy,
  resolved?: ReadonlyMap<string, readonly string[]>,
) {
  if (rule.port !== null && rule.port !== port) return false;
  const where = rule.where;
  if (where.kind === 'range') return ip !== null && inRange(ip, where.range);
  if (where.kind === 'loopback')
    return (
      (host !== undefined && isLoopbackName(host)) ||
      (ip !== null && (LOOPBACK.some((range) => inRange(ip, range)) || policy.localAddresses.some((local) => local.every((b, i) => b === ip[i]))))
    );
  if (host === where.host) return true;
  const addresses = resolved?.get(where.host) ?? [];
  return ip !== null && addresses.some((a) => parseIp(a)?.every((b, i) => b === ip[i]));
}

function describe(destination: Destination, ip: IpBytes | null): string {
  const address = ip ? formatIp(ip) : undefined;
  const shown = (text: string) => (text.includes(':') ? `[${text}]` : text);
  // A literal host (::ffff:a9fe:a9fe) is shown as the address it is (169.254.169.254).
  const host = destination.host && !parseIp(normaliseHost(destination.host)) ? normaliseHost(destination.host) : undefined;
  if (host && address && host !== address) return `${shown(host)}:${destination.port} (${address})`;
  return `${shown(host ?? address ?? '?')}:${destination.port}`;
}

/**
 * May a call go to this destination? Check every address a name resolves to (and connect only
 * to the addresses checked), and check again after each redirect: a check of the name alone
 * is not enough, since DNS can answer differently on the next lookup.
 */
export function checkDestination(policy: NetworkPolicy, destination: Destination, resolved?: ReadonlyMap<string, readonly string[]>): EgressDecision {
  const hostText = destination.host ? normaliseHost(destination.host) : undefined;
  const literal = hostText ? parseIp(hostText) : null;
  const ip = destination.ip ? parseIp(normaliseHost(destination.ip)) : literal;
  const host = literal ? undefined : hostText;
  const hit = (rules: readonly Rule[]) => rules.find((rule) => matches(rule, host, ip, destination.port, policy, resolved));
  const where = describe(destination, ip);
  const denied = hit(policy.deny);
  if (denied) return { allowed: false, reason: `${where} is denied by GLIDEPATH_EGRESS_DENY (${denied.says})` };
  if (hit(policy.allow)) return { allowed: true };
  const builtIn = hit(policy.builtIn);
  if (builtIn) return { allowed: false, reason: `${where} ${builtIn.says}; ${ALLOW_HINT}` };
  return { allowed: true };
}

/** `/a/./b/../c/` is `/a/c`; the policy compares directories by prefix, so `..` must be gone. */
export function normalisePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

function under(path: string, dir: string): boolean {
  return dir === '/' ? path !== '/' : path.startsWith(`${dir}/`);
}

/**
 * May a call go to this unix socket? Only under GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS, judged by
 * the socket's real path (symbolic links followed, at call time) so that neither `..` nor a
 * link leads out. `realDir` gives each configured directory's own real path (/var/run is
 * often a link to /run).
 */
export function checkUnixSocket(
  policy: NetworkPolicy,
  socket: { path: string; realPath?: string },
  realDir: (dir: string) => string = (dir) => dir,
): EgressDecision {
  const real = normalisePath(socket.realPath ?? socket.path);
  const shown = real === normalisePath(socket.path) ? `unix socket ${socket.path}` : `unix socket ${socket.path} (really ${real})`;
  const inDir = (dir: string) => under(real, dir) || under(real, normalisePath(realDir(dir)));
  const denied = policy.deniedSocketDirs.find((d) => inDir(d.dir));
  if (denied) return { allowed: false, reason: `${shown} ${denied.says}` };
  if (policy.unixSocketDirs.some(inDir)) return { allowed: true };
  const dirs = policy.unixSocketDirs.length ? policy.unixSocketDirs.join(', ') : 'none set';
  return { allowed: false, reason: `${shown} is not under GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS (${dirs}); add its directory there to allow it` };
}
