import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyStandardWebhook } from '../webhook/standard-webhooks.ts';
import type { DeploymentMessage, DeploymentStatusQuery } from './webhook.deployer.ts';

export type ReceiverMode =
  /** Does what it is asked: synchronously (200 ready) on most slots, asynchronously (202, then ready) on the slow one. */
  | 'good'
  /** Holds every request open. */
  | 'never-answers'
  /** Says ready, then failed when asked again. */
  | 'answers-twice'
  /** Deploys another digest than the one asked, and says so. */
  | 'wrong-digest';

interface Operation {
  id: string;
  action: 'deploy' | 'remove';
  slot: string;
  state: 'pending' | 'ready' | 'removed' | 'failed';
  digest: string | null;
  reason?: string;
}

/**
 * A receiver as a platform would write one: it verifies every request's signature (401 if not),
 * applies each webhook-id once, answers with the operation's state, and serves each slot's digest
 * on GET /health/<slot> (503 when empty) and always 503 on GET /broken/<slot>.
 */
export async function startDeployReceiver(secret: string, options: { mode?: ReceiverMode; slowSlot?: string; slowMs?: number } = {}) {
  const mode = options.mode ?? 'good';
  const operations = new Map<string, Operation>();
  const slots = new Map<string, { op: string; digest: string | null }>();
  const performed = new Map<string, number>();
  const requests: { id: string; type: string; valid: boolean }[] = [];
  const hanging = new Set<http.ServerResponse>();

  const answer = (op: Operation) => ({ id: op.id, state: op.state, ...(op.digest ? { digest: op.digest } : {}), ...(op.reason ? { reason: op.reason } : {}) });
  const json = (res: http.ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'GET') {
        const [, kind, slot] = (req.url ?? '').split('/');
        const digest = slot ? slots.get(decodeURIComponent(slot))?.digest : null;
        if (kind !== 'health' || !digest) return json(res, 503);
        return void res.writeHead(200, { 'x-glidepath-digest': digest }).end('ok');
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const valid = verifyStandardWebhook(secret, req.headers, body);
      const id = String(req.headers['webhook-id']);
      const message = JSON.parse(body || '{}') as DeploymentMessage | DeploymentStatusQuery;
      requests.push({ id, type: message.type, valid });
      if (!valid) return json(res, 401);
      if (mode === 'never-answers') return void hanging.add(res);

      if (message.type === 'glidepath.deployment.status') {
        if (message.id === null) {
          const current = slots.get(message.slot);
          const op = current && operations.get(current.op);
          return op ? json(res, 200, answer(op)) : json(res, 404);
        }
        const op = operations.get(message.id);
        if (!op) return json(res, 404);
        if (mode === 'answers-twice' && op.state === 'ready') return json(res, 200, { id: op.id, state: 'failed', reason: 'it was never there' });
        return json(res, 200, answer(op));
      }

      // De-duplicate by webhook-id: a repeated delivery answers with what the first one started.
      const known = operations.get(id);
      if (known) return json(res, known.state === 'pending' ? 202 : 200, answer(known));
      performed.set(id, (performed.get(id) ?? 0) + 1);
      if (message.action === 'remove') {
        slots.set(message.slot, { op: id, digest: null });
        const op: Operation = { id, action: 'remove', slot: message.slot, state: 'removed', digest: null };
        operations.set(id, op);
        return json(res, 200, answer(op));
      }
      const digest = mode === 'wrong-digest' ? `sha256:${'e'.repeat(64)}` : message.artifact.digest;
      const op: Operation = { id, action: 'deploy', slot: message.slot, state: 'pending', digest: null };
      operations.set(id, op);
      const finish = () => {
        op.state = 'ready';
        op.digest = digest;
        slots.set(message.slot, { op: id, digest });
      };
      if (message.slot === options.slowSlot) {
        setTimeout(finish, options.slowMs ?? 500);
        return json(res, 202);
      }
      finish();
      return json(res, 200, answer(op));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/glidepath/deploy`,
    base,
    requests,
    performed: (id: string) => performed.get(id) ?? 0,
    observe: (slot: string) => slots.get(slot)?.digest ?? null,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
export type DeployReceiver = Awaited<ReturnType<typeof startDeployReceiver>>;
