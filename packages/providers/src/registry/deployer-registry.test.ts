import { describe, expect, it } from 'vitest';
import { createEgress } from '../network/egress.ts';
import { builtInDeployerProviders, createDeployerRegistry } from './deployer-registry.ts';

const egress = createEgress({ allow: [], deny: [], unixSocketDirs: [] });
const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

describe('deployer registry', () => {
  const registry = createDeployerRegistry(builtInDeployerProviders(), { egress, commandHost: { stateDir: '/tmp/gp-state', executableDirs: ['/opt/deploy'] } });

  it('knows none, webhook and command', () => {
    expect(registry.types()).toEqual(['none', 'webhook', 'command']);
  });

  it('checks each config at registration, naming the field', () => {
    expect(registry.validate({ type: 'none', config: {} }).ok).toBe(true);
    expect(registry.validate({ type: 'webhook', config: { url: 'https://deploy.example.com/hook', secret } }).ok).toBe(true);
    expect(registry.validate({ type: 'kubernetes', config: {} })).toEqual({
      ok: false,
      problems: [{ path: 'type', message: 'must be one of: none, webhook, command' }],
    });
    expect(registry.validate({ type: 'webhook', config: { url: 'ftp://x', secret } })).toMatchObject({ ok: false, problems: [{ path: 'config.url' }] });
  });

  it('refuses a command this host does not allow, and any command where none is allowed', () => {
    expect(registry.validate({ type: 'command', config: { command: ['/opt/deploy/run.sh'] } }).ok).toBe(true);
    expect(registry.validate({ type: 'command', config: { command: ['/bin/sh', '-c', 'rm -rf /'] } })).toMatchObject({
      ok: false,
      problems: [{ path: 'config.command.0', message: expect.stringMatching(/allowed executable directory/) }],
    });
    const closed = createDeployerRegistry(builtInDeployerProviders(), { egress });
    expect(closed.validate({ type: 'command', config: { command: ['/opt/deploy/run.sh'] } })).toMatchObject({
      ok: false,
      problems: [{ path: 'config.command.0', message: expect.stringMatching(/not enabled on this host/) }],
    });
  });

  it('lists every place a config calls, for the network policy', () => {
    const health = { url: 'http://10.0.0.5:8080/{slot}/health', slotUrls: { green: 'http://10.0.0.6:8080/health' } };
    expect(
      registry.destinations({
        type: 'webhook',
        config: { url: 'https://deploy.example.com/hook', statusUrl: 'https://status.example.com/q', secret, healthCheck: health },
      }),
    ).toEqual([
      { path: 'config.url', target: { kind: 'url', url: 'https://deploy.example.com/hook' } },
      { path: 'config.statusUrl', target: { kind: 'url', url: 'https://status.example.com/q' } },
      { path: 'config.healthCheck.url', target: { kind: 'url', url: 'http://10.0.0.5:8080/slot/health' } },
      { path: 'config.healthCheck.slotUrls.green', target: { kind: 'url', url: 'http://10.0.0.6:8080/health' } },
    ]);
    expect(registry.destinations({ type: 'none', config: {} })).toEqual([]);
  });

  it('hands out one deployer per spec and refuses an invalid one', async () => {
    const spec = { type: 'none', config: {} };
    expect(registry.deployerFor(spec)).toBe(registry.deployerFor({ type: 'none', config: {} }));
    expect(() => registry.deployerFor({ type: 'webhook', config: {} })).toThrow(/invalid webhook deployer config/);
    await registry.close();
  });
});
