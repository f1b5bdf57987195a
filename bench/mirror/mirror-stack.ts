import { startMirrorProxy } from '@glidepath/providers';
import { startVersionApp } from '@glidepath/providers/mirror-testing';

/**
 * The stack the mirror benchmark loads, in a process of its own so that the load generator does not
 * share its event loop: a live version, an identical shadow version, and the mirroring proxy in
 * front of the live one. Prints one JSON line with the addresses, then serves until killed.
 */
const live = await startVersionApp({ servedBy: 'blue' });
const shadow = await startVersionApp({ servedBy: 'blue' });
const proxy = await startMirrorProxy({
  listen: { host: '127.0.0.1', port: 0 },
  control: { host: '127.0.0.1', port: 0 },
  live: live.url,
  slots: { green: shadow.url },
});
console.log(JSON.stringify({ live: live.url, proxy: proxy.url, control: proxy.controlUrl }));
