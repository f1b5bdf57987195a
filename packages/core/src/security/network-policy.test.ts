import { describe, expect, it } from 'vitest';
import { parseEgressEntry } from './egress-entry.ts';
import { checkDestination, checkUnixSocket, parseNetworkPolicy, policyHostNames, type EgressSettings, type OwnEndpoints } from './network-policy.ts';
import { pathProblem, urlOnOrigin } from './path-on-origin.ts';

const OWN: OwnEndpoints = {
  databaseUrl: 'postgresql://postgres@127.0.0.1:5432/glidepath',
  redisUrl: 'redis://localhost:6379',
  localAddresses: ['10.1.1.5', 'fe80::1'],
};

function policy(settings: Partial<EgressSettings> = {}, own: OwnEndpoints = OWN) {
  const parsed = parseNetworkPolicy({ allow: [], deny: [], unixSocketDirs: [], ...settings }, own);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.policy;
}

describe('checkDestination with the defaults', () => {
  const p = policy();
  it.each([
    [{ ip: '169.254.169.254', port: 80 }, /^169\.254\.169\.254:80 is link-local, where cloud metadata services answer.*add it to GLIDEPATH_EGRESS_ALLOW/],
    [{ ip: '::ffff:169.254.169.254', port: 80 }, /^169\.254\.169\.254:80 is link-local/],
    [{ ip: '::ffff:a9fe:a9fe', port: 80 }, /link-local/],
    [{ host: '[::ffff:a9fe:a9fe]', port: 80 }, /^169\.254\.169\.254:80 is link-local/],
    [{ host: 'metadata.internal', ip: '169.254.169.254', port: 80 }, /^metadata\.internal:80 \(169\.254\.169\.254\) is link-local/],
    [{ ip: 'fe80::1', port: 443 }, /^\[fe80::1\]:443 is IPv6 link-local/],
    [{ ip: 'fd00:ec2::254', port: 80 }, /cloud metadata service \(IPv6\)/],
    [{ ip: '0.0.0.0', port: 8080 }, /"this host"/],
    [{ ip: '::', port: 8080 }, /unspecified address/],
    // The database on 127.0.0.1:5432 is the same place by any loopback name or address.
    [{ ip: '127.0.0.1', port: 5432 }, /^127\.0\.0\.1:5432 is the control plane's own database \(DATABASE_URL\)/],
    [{ ip: '127.0.0.2', port: 5432 }, /own database/],
    [{ ip: '::1', port: 5432 }, /^\[::1\]:5432 is the control plane's own database/],
    [{ ip: '::ffff:127.0.0.1', port: 5432 }, /own database/],
    [{ host: 'localhost', port: 5432 }, /^localhost:5432 is the control plane's own database/],
    [{ host: 'api.localhost', ip: '127.0.0.1', port: 5432 }, /own database/],
    [{ host: 'LOCALHOST.', port: 5432 }, /own database/],
    // …and on this machine's own addresses, where a service listening on every address answers.
    [{ ip: '10.1.1.5', port: 5432 }, /own database/],
    [{ ip: '127.0.0.1', port: 6379 }, /^127\.0\.0\.1:6379 is the control plane's own Redis \(REDIS_URL\)/],
    [{ host: 'localhost', ip: '::1', port: 6379 }, /^localhost:6379 \(::1\) is the control plane's own Redis/],
  ])('%j is denied', (destination, reason) => {
    const decision = checkDestination(p, destination);
    expect(decision.allowed).toBe(false);
    expect(!decision.allowed && decision.reason).toMatch(reason);
  });

  it.each([
    { ip: '127.0.0.1', port: 9999 },
    { host: 'localhost', ip: '127.0.0.1', port: 9090 },
    { ip: '::1', port: 8080 },
    { ip: '10.1.1.5', port: 8080 },
    { ip: '10.2.3.4', port: 5432 },
    { ip: '93.184.216.34', port: 443 },
    { ip: '169.253.255.255', port: 80 },
    { host: 'hooks.example.com', port: 443 },
    { ip: '2001:db8::1', port: 443 },
  ])('%j is allowed', (destination) => {
    expect(checkDestination(p, destination)).toEqual({ allowed: true });
  });
});

describe('checkDestination with configured entries', () => {
  it('an explicit allow beats a built-in denial; an explicit deny beats an allow', () => {
    const p = policy({ allow: ['169.254.169.254', '10.0.0.0/8'], deny: ['10.9.0.0/16'] });
    expect(checkDestination(p, { ip: '169.254.169.254', port: 80 })).toEqual({ allowed: true });
    expect(checkDestination(p, { ip: '169.254.169.253', port: 80 }).allowed).toBe(false);
    expect(checkDestination(p, { ip: '10.1.0.1', port: 80 })).toEqual({ allowed: true });
    expect(checkDestination(p, { ip: '10.9.0.1', port: 80 })).toEqual({
      allowed: false,
      reason: '10.9.0.1:80 is denied by GLIDEPATH_EGRESS_DENY (10.9.0.0/16)',
    });
  });

  it('ports narrow an entry', () => {
    const p = policy({ allow: ['127.0.0.1:5432'], deny: ['[fd00::/8]:22', 'hooks.example.com:80'] });
    expect(checkDestination(p, { ip: '::1', port: 5432 })).toEqual({ allowed: true });
    expect(checkDestination(p, { ip: 'fd00::5', port: 22 }).allowed).toBe(false);
    expect(checkDestination(p, { ip: 'fd00::5', port: 23 }).allowed).toBe(true);
    expect(checkDestination(p, { host: 'Hooks.Example.com', port: 80 }).allowed).toBe(false);
    expect(checkDestination(p, { host: 'hooks.example.com', port: 443 }).allowed).toBe(true);
  });

  it('a host name entry also covers the addresses it resolves to, when the caller resolved them', () => {
    const p = policy({ deny: ['vault.internal'] }, { databaseUrl: 'postgresql://db.internal/glidepath' });
    expect(policyHostNames(p).sort()).toEqual(['db.internal', 'vault.internal']);
    const resolved = new Map([
      ['vault.internal', ['10.0.0.7']],
      ['db.internal', ['10.0.0.8', 'fd00::8']],
    ]);
    expect(checkDestination(p, { ip: '10.0.0.7', port: 8200 }, resolved).allowed).toBe(false);
    expect(checkDestination(p, { ip: '10.0.0.7', port: 8200 }).allowed).toBe(true);
    expect(checkDestination(p, { host: 'other.name', ip: '10.0.0.8', port: 5432 }, resolved)).toEqual({
      allowed: false,
      reason: "other.name:5432 (10.0.0.8) is the control plane's own database (DATABASE_URL); add it to GLIDEPATH_EGRESS_ALLOW to allow it",
    });
    expect(checkDestination(p, { ip: 'fd00::8', port: 5432 }, resolved).allowed).toBe(false);
    expect(checkDestination(p, { ip: '10.0.0.8', port: 5433 }, resolved).allowed).toBe(true);
  });

  it('refuses entries that are not addresses, ranges or names, naming the variable', () => {
    expect(parseNetworkPolicy({ allow: ['10.0.0.0/33'], deny: ['host:99999', 'a b'], unixSocketDirs: ['run/x'] }, {})).toEqual({
      ok: false,
      problems: [
        'GLIDEPATH_EGRESS_ALLOW: "10.0.0.0/33" not an IP address or a range (10.0.0.0/8, fd00::/8)',
        'GLIDEPATH_EGRESS_DENY: "host:99999" the port must be 1-65535',
        'GLIDEPATH_EGRESS_DENY: "a b" not an IP address, a range or a host name',
        'GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS: "run/x" is not an absolute directory',
      ],
    });
  });

  it.each([
    ['10.0.0.0/8:443', { kind: 'range', port: 443 }],
    ['[::1]:5432', { kind: 'range', port: 5432 }],
    ['[fd00::/8]', { kind: 'range', port: null }],
    ['fd00::/8', { kind: 'range', port: null }],
    ['hooks.example.com', { kind: 'host', host: 'hooks.example.com', port: null }],
    ['DB.Internal.:5432', { kind: 'host', host: 'db.internal', port: 5432 }],
  ])('entry %s', (entry, expected) => {
    expect(parseEgressEntry(entry)).toMatchObject(expected);
  });

  it.each(['[10.0.0.1]:80', '10.0.0.256', 'x:0', '-bad.example', '::1:80:'])('entry %s is refused', (entry) => {
    expect(parseEgressEntry(entry)).toHaveProperty('problem');
  });

  it('a database on a unix socket denies that socket directory', () => {
    const p = policy({ unixSocketDirs: ['/run'] }, { databaseUrl: 'postgresql://postgres@/glidepath?host=/run/postgresql' });
    expect(checkUnixSocket(p, { path: '/run/postgresql/.s.PGSQL.5432' })).toEqual({
      allowed: false,
      reason: "unix socket /run/postgresql/.s.PGSQL.5432 is the control plane's own database socket (DATABASE_URL)",
    });
    expect(checkUnixSocket(p, { path: '/run/haproxy/admin.sock' })).toEqual({ allowed: true });
  });
});

describe('checkUnixSocket', () => {
  const p = policy({ unixSocketDirs: ['/var/run/haproxy/', '/srv/sockets'] });
  const real = (dir: string) => (dir === '/var/run/haproxy' ? '/run/haproxy' : dir);
  it.each([
    [{ path: '/var/run/haproxy/admin.sock' }, true],
    [{ path: '/var/run/haproxy/admin.sock', realPath: '/run/haproxy/admin.sock' }, true],
    [{ path: '/srv/sockets/a/b.sock' }, true],
    [{ path: '/srv/sockets' }, false],
    [{ path: '/srv/socketsX/a.sock' }, false],
    [{ path: '/srv/sockets/../../var/run/docker.sock' }, false],
    [{ path: '/srv/sockets/link.sock', realPath: '/var/run/docker.sock' }, false],
    [{ path: '/var/run/docker.sock' }, false],
  ])('%j allowed: %s', (socket, allowed) => {
    expect(checkUnixSocket(p, socket, real).allowed).toBe(allowed);
  });

  it('says where the socket really is and what is allowed', () => {
    expect(checkUnixSocket(p, { path: '/srv/sockets/link.sock', realPath: '/var/run/docker.sock' })).toEqual({
      allowed: false,
      reason:
        'unix socket /srv/sockets/link.sock (really /var/run/docker.sock) is not under GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS (/var/run/haproxy, /srv/sockets); add its directory there to allow it',
    });
    expect(checkUnixSocket(policy(), { path: '/var/run/docker.sock' })).toMatchObject({ reason: expect.stringMatching(/\(none set\)/) });
  });
});

describe('smoke check paths stay on the base URL', () => {
  it.each([
    ['/healthz', null],
    ['/a/b?c=d', null],
    ['//other-host/x', /another host/],
    ['/\\other-host/x', /another host/],
    ['/\t/other-host/x', /control characters/],
    ['healthz', /must start with \//],
  ])('%s', (path, problem) => {
    const found = pathProblem(path);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });

  it('resolves on the origin and keeps its credentials', () => {
    const ok = urlOnOrigin('https://u:p@canary.example:8443/app/', '/healthz');
    expect(ok.ok && ok.url.href).toBe('https://u:p@canary.example:8443/healthz');
    expect(urlOnOrigin('https://canary.example', '//evil.example/x')).toMatchObject({ ok: false });
  });
});
