import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startMirrorProxy } from './mirror-proxy.ts';

/**
 * Runs the mirroring proxy in front of an environment's router (see README.md beside this file):
 *   tsx packages/providers/src/mirror/mirror-proxy.cli.ts --listen 0.0.0.0:8080 --live http://127.0.0.1:8081 \
 *     --control 127.0.0.1:9400 --token-file /etc/glidepath/mirror-token --slot blue=http://10.0.0.5:8000 --slot green=http://10.0.0.6:8000
 */
const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    live: { type: 'string' },
    control: { type: 'string', default: '127.0.0.1:9400' },
    'token-file': { type: 'string' },
    slot: { type: 'string', multiple: true, default: [] },
    'max-in-flight': { type: 'string', default: '64' },
    'copy-timeout-ms': { type: 'string', default: '5000' },
  },
});
const hostPort = (flag: string, value: string | undefined) => {
  const m = /^(.+):(\d{1,5})$/.exec(value ?? '');
  if (!m) throw new Error(`--${flag} must be host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
};
if (!values.live) throw new Error('--live must be the URL of the router that serves the live version');
const slots = Object.fromEntries(
  values.slot.map((s) => {
    const m = /^([A-Za-z0-9_.:-]+)=(https?:\/\/\S+)$/.exec(s);
    if (!m) throw new Error(`--slot must be name=http://host:port, not ${s}`);
    return [m[1]!, m[2]!];
  }),
);
const proxy = await startMirrorProxy({
  listen: hostPort('listen', values.listen),
  control: { ...hostPort('control', values.control), token: values['token-file'] ? readFileSync(values['token-file'], 'utf8').trim() : undefined },
  live: values.live,
  slots,
  maxInFlight: Number(values['max-in-flight']),
  copyTimeoutMs: Number(values['copy-timeout-ms']),
});
console.log(`mirroring proxy: users at ${proxy.url} → ${values.live}; control at ${proxy.controlUrl}; slots ${Object.keys(slots).join(', ')}`);
// Last line of defence: this process carries all the environment's user traffic, so a promise a copy left
// unhandled is logged, never the end of the proxy (copies and comparisons are the only optional work here).
process.on('unhandledRejection', (reason) => {
  console.error(`mirroring proxy: unhandled rejection (logged, proxy kept up): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void proxy.close().then(() => process.exit(0)));
