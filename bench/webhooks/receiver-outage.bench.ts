// A webhook receiver down for a while (5 minutes by default) while events keep coming: how
// long after it is back until it has every event, and whether any was lost or sent twice.
// The worker runs with its production defaults (first retry after 5 s, doubling).
//   node_modules/.bin/tsx bench/webhooks/receiver-outage.bench.ts [--outage-seconds 300] [--rate 2]
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import { appendAuditEvent, createPrismaClient, createSecretBox, DEVELOPMENT_SECRETS_KEY, insertSubscription } from '@glidepath/db';
import { createTestDatabase, dropTemplateDatabase, prepareTemplateDatabase, startWorkerProcess } from '@glidepath/db/testing';
import { verifyStandardWebhook } from '@glidepath/providers';

const { values } = parseArgs({ options: { 'outage-seconds': { type: 'string', default: '300' }, rate: { type: 'string', default: '2' } } });
const outageMs = Number(values['outage-seconds']) * 1000;
const perSecond = Number(values.rate);
const secret = `whsec_${randomBytes(32).toString('base64')}`;

process.env.GLIDEPATH_TEST_TEMPLATE = `glidepath_bench_template_${process.pid}`;
await prepareTemplateDatabase();
const db = await createTestDatabase();
const prisma = createPrismaClient(db.url, 4);
// A real worker process with its defaults (the test helper only shortens the sweep and job lock).
const worker = startWorkerProcess({ databaseUrl: db.url, queuePrefix: `gp-bench-${randomBytes(4).toString('hex')}`, extra: { LOG_LEVEL: 'error' } });

const received = new Map<string, number>(); // webhook-id → times received
let badSignatures = 0;
let lastArrival = 0;
let server: Server | undefined;
const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const up = () =>
  new Promise<void>((resolve) => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (!verifyStandardWebhook(secret, req.headers, body)) badSignatures++;
        const id = String(req.headers['webhook-id']);
        received.set(id, (received.get(id) ?? 0) + 1);
        lastArrival = Date.now();
        res.end('ok');
      });
    }).listen(port, '127.0.0.1', () => resolve());
  });
const down = () => new Promise<void>((resolve) => (server!.close(() => resolve()), server!.closeAllConnections()));

try {
  await prisma.$transaction((tx) =>
    insertSubscription(
      tx,
      { url: `http://127.0.0.1:${port}/in`, events: ['release.*'], serviceId: null, environmentId: null, description: null },
      createSecretBox(DEVELOPMENT_SECRETS_KEY).seal(secret),
      'bench',
    ),
  );
  await up();
  let sent = 0;
  const emit = setInterval(() => {
    sent++;
    void prisma.$transaction((tx) =>
      appendAuditEvent(tx, { actor: { type: 'system', id: 'bench' }, action: 'release.step-advanced', subject: { type: 'release', id: `bench-${sent}` } }),
    );
  }, 1000 / perSecond);
  await new Promise((r) => setTimeout(r, 20_000));
  console.log(`receiver down for ${outageMs / 1000} s while ${perSecond} events/s keep coming…`);
  await down();
  await new Promise((r) => setTimeout(r, outageMs));
  clearInterval(emit);
  const backAt = Date.now();
  await up();
  console.log(`receiver back; ${sent} events sent in all`);
  const deadline = Date.now() + 15 * 60_000;
  while (received.size < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 3000)); // anything extra would arrive now
  const duplicates = [...received.values()].filter((n) => n > 1).length;
  const attempts = await prisma.webhookAttempt.count();
  const failed = await prisma.webhookAttempt.count({ where: { statusCode: null } });
  console.log(`\nreceiver outage of ${outageMs / 1000} s, ${perSecond} events/s, worker defaults (first retry 5 s, doubling)`);
  console.log(`  events: ${sent}; received: ${received.size}; lost: ${sent - received.size}; received twice: ${duplicates}; bad signatures: ${badSignatures}`);
  console.log(`  all delivered ${((lastArrival - backAt) / 1000).toFixed(1)} s after the receiver came back`);
  console.log(`  attempts logged: ${attempts} (${failed} failed while it was down)`);
} finally {
  await down().catch(() => {});
  await worker.stop();
  await prisma.$disconnect();
  await db.drop();
  await dropTemplateDatabase();
}
