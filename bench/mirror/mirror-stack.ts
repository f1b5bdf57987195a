import { startMirrorProxy } from '@glidepath/providers';
import { startVersionApp } from '@glidepath/providers/mirror-testing';

/**
 * The processes the mirror benchmark loads, each on an event loop of its own so that neither the
 * load generator nor the apps share the proxy's: `apps` runs a live version and an identical shadow
 * version; `proxy <live> <shadow>` runs the mirroring proxy in front of the live one. Each prints
 * one JSON line with its addresses, then serves until killed.
 */
const [role, liveUrl, shadowUrl] = process.argv.slice(2);
if (role === 'apps') {
  const live = await startVersionApp({ servedBy: 'blue' });
  const shadow = await startVersionApp({ servedBy: 'blue' });
  console.log(JSON.stringify({ live: live.url, shadow: shadow.url }));
} else {
  const proxy = await startMirrorProxy({
    listen: { host: '127.0.0.1', port: 0 },
    control: { host: '127.0.0.1', port: 0 },
    live: liveUrl!,
    slots: { green: shadowUrl! },
  });
  console.log(JSON.stringify({ proxy: proxy.url, control: proxy.controlUrl }));
}
