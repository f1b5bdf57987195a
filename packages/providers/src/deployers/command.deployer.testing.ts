import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A host managed directly, as a test can have one: bin/deploy.sh, a real shell script that puts a
 * digest on a slot by writing slots/<slot>.digest (MODE changes how it behaves), logs every run in
 * slots/runs.log, and an HTTP server in front of the slots (which marks slots/<slot>.served when it serves one) that serves each slot's digest on
 * GET /health/<slot> (503 when empty), and 503 on GET /broken/<slot>.
 */
export async function startManagedHost() {
  const root = await mkdtemp(join(tmpdir(), 'gp-command-deployer-'));
  const bin = join(root, 'bin');
  const slots = join(root, 'slots');
  const state = join(root, 'state');
  await Promise.all([mkdir(bin), mkdir(slots), mkdir(state)]);
  const script = join(bin, 'deploy.sh');
  await writeFile(
    script,
    `#!/bin/sh
set -eu
echo "$GLIDEPATH_ACTION $GLIDEPATH_DEPLOYMENT_ID" >> "$SLOTS/runs.log"
env > "$SLOTS/last.env"
put() { printf '%s' "$1" > "$SLOTS/$GLIDEPATH_SLOT.tmp" && mv "$SLOTS/$GLIDEPATH_SLOT.tmp" "$SLOTS/$GLIDEPATH_SLOT.digest"; }
if [ "$GLIDEPATH_ACTION" = remove ]; then
  rm -f "$SLOTS/$GLIDEPATH_SLOT.digest"
  echo "removed slot $GLIDEPATH_SLOT"
  exit 0
fi
# FAIL_ON=<slot>:<digest> fails that one deploy (a bad version on one instance).
if [ "\${FAIL_ON:-}" = "$GLIDEPATH_SLOT:$GLIDEPATH_DIGEST" ]; then
  echo "error: $GLIDEPATH_DIGEST does not start on $GLIDEPATH_SLOT" >&2
  exit 4
fi
case "\${MODE:-good}" in
  hang)
    sleep 600 &
    echo $! > "$SLOTS/hang.child"
    echo $$ > "$SLOTS/hang.pid"
    echo "waiting for ever"
    wait ;;
  fail)
    echo "pulling $GLIDEPATH_DIGEST"
    echo "error: image $GLIDEPATH_DIGEST not found" >&2
    exit 3 ;;
  wrong)
    put "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee" ;;
  flap)
    rm -f "$SLOTS/$GLIDEPATH_SLOT.served"
    put "$GLIDEPATH_DIGEST"
    # Something else deploys over the slot just after the health check first saw it (at most 10 s later).
    (i=0; while [ ! -f "$SLOTS/$GLIDEPATH_SLOT.served" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
     sleep 0.2; put "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff") > /dev/null 2>&1 &
    ;;
  noisy)
    i=0
    while [ $i -lt 3000 ]; do echo "line $i of a chatty deploy ........................................"; i=$((i+1)); done
    put "$GLIDEPATH_DIGEST" ;;
  *)
    if [ "$GLIDEPATH_SLOT" = slow ] || [ "$GLIDEPATH_SLOT" = "\${SLOW_SLOT:-}" ]; then sleep "\${SLOW_SECONDS:-0.6}"; fi
    put "$GLIDEPATH_DIGEST" ;;
esac
echo "deployed $GLIDEPATH_DIGEST ($GLIDEPATH_VERSION) on slot $GLIDEPATH_SLOT"
`,
  );
  await chmod(script, 0o755);

  const digestOn = async (slot: string) => readFile(join(slots, `${slot}.digest`), 'utf8').catch(() => null);
  const server = http.createServer((req, res) => {
    const [, kind, slot] = (req.url ?? '').split('/');
    void (kind === 'health' && slot ? digestOn(decodeURIComponent(slot)) : Promise.resolve(null)).then(async (digest) => {
      if (!digest) return void res.writeHead(503).end();
      // Lets a script act on "the slot has been seen healthy" (MODE=flap).
      await writeFile(join(slots, `${decodeURIComponent(slot!)}.served`), '').catch(() => {});
      res.writeHead(200, { 'x-glidepath-digest': digest }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    root,
    bin,
    slots,
    state,
    script,
    base,
    digestOn,
    runs: async () => (await readFile(join(slots, 'runs.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean),
    performed: async (id: string) =>
      (await readFile(join(slots, 'runs.log'), 'utf8').catch(() => '')).split('\n').filter((line) => line.split(' ')[1] === id).length,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(root, { recursive: true, force: true });
    },
  };
}
export type ManagedHost = Awaited<ReturnType<typeof startManagedHost>>;
