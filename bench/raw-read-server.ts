// Baseline for bench/api-read.bench.ts: the database's own limit for each hot read. A bare
// Fastify server (no plugins, no hooks, no logger, no identity) that runs the SAME single
// statement the API runs (the read repositories of packages/db, on a pg pool of the same size)
// and answers the same JSON. Started as a child process; prints `listening <port>`.
//
//   DATABASE_URL=postgres://… node --import tsx bench/raw-read-server.ts
import { countingApprovals, type ReleaseState, type Step, type StepState } from '@glidepath/core';
import { createSqlPool, readAuditPage, readAwaitingApproval, readReleaseDetail, readReleasePage } from '@glidepath/db';
import Fastify from 'fastify';

const pool = createSqlPool(process.env.DATABASE_URL!, 10);
const app = Fastify({ logger: false });
const JSON_TYPE = 'application/json; charset=utf-8';

app.get('/hello', async () => ({ hello: 'world' }));
app.get<{ Querystring: { limit?: string } }>('/api/v1/audit', async (request, reply) =>
  reply.type(JSON_TYPE).send(await readAuditPage(pool, {}, Number(request.query.limit ?? 50))),
);
app.get<{ Querystring: { limit?: string } }>('/api/v1/releases', async (request, reply) =>
  reply.type(JSON_TYPE).send(await readReleasePage(pool, {}, Number(request.query.limit ?? 50))),
);
app.get<{ Params: { id: string } }>('/api/v1/releases/:id', async (request, reply) => {
  const json = await readReleaseDetail(pool, request.params.id);
  return json === null ? reply.status(404).send({ error: 'not found' }) : reply.type(JSON_TYPE).send(json);
});
// The inbox of someone who may approve everything: every waiting release, with the approvals that still count.
app.get('/api/v1/approvals', async () => {
  const now = Date.now();
  const items = [];
  for (const w of await readAwaitingApproval(pool)) {
    if (w.statePhase !== 'awaiting-approval' || w.step?.type !== 'approval' || !w.stepState) continue;
    const step = w.step as Extract<Step, { type: 'approval' }>;
    const counting = w.state ? countingApprovals(w.state as ReleaseState, step, w.stepState as StepState, now) : [];
    items.push({
      release: w.release,
      requestedBy: w.requestedBy,
      stepIndex: w.stateStepIndex,
      requiredApprovals: step.count,
      group: step.group,
      approvals: counting.map((a) => ({ by: a.display ?? a.actorId, comment: a.comment, at: a.at })),
      waitingSince: w.stepState.startedAt,
      expiresAt: w.stepState.wakeAt,
      evidence: w.evidence,
      needsReauthentication: false,
    });
  }
  return { items };
});

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
if (address === null || typeof address === 'string') throw new Error(`unexpected listen address ${String(address)}`);
process.stdout.write(`listening ${address.port}\n`);

const shutdown = () => void app.close().then(() => pool.end().finally(() => process.exit(0)));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
