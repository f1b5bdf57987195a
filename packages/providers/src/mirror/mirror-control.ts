import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { parseMirrorSession, type MirrorSession } from '@glidepath/core';
import type { SessionRecord } from './mirror-proxy.ts';

/**
 * The proxy's control API, which Glidepath's shadow gate calls (mirror-client.ts):
 *   PUT    /sessions/<id>   open (or keep) a session: the body is a MirrorSession; 400 names the field at fault
 *   GET    /sessions/<id>   the session and its tally; 404 when the proxy does not know it (it restarted)
 *   DELETE /sessions/<id>   stop copying for it (its tally stays readable); idempotent
 * With a token configured every call needs `authorization: Bearer <token>`.
 */
export interface ControlDeps {
  token?: string;
  sessions: Map<string, SessionRecord>;
  open(config: MirrorSession): SessionRecord;
  stop(record: SessionRecord, reason: string): void;
  active(): SessionRecord | null;
  inFlight(): number;
}

const MAX_BODY = 64 * 1024;

export async function handleControl(req: http.IncomingMessage, res: http.ServerResponse, deps: ControlDeps): Promise<void> {
  const reply = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const error = (status: number, code: string, message: string, details?: unknown): void =>
    reply(status, { error: { code, message, ...(details ? { details } : {}) } });
  if (deps.token && !sameSecret(req.headers.authorization ?? '', `Bearer ${deps.token}`)) return error(401, 'unauthorized', 'a bearer token is required');
  const url = new URL(req.url ?? '/', 'http://control');
  const match = /^\/sessions\/([^/]+)$/.exec(url.pathname);
  if (!match) return error(404, 'not_found', 'no such resource: use /sessions/<id>');
  const id = decodeURIComponent(match[1]!);
  deps.active(); // expires a session that is past its time before anyone reads it
  const known = deps.sessions.get(id);
  const view = (r: SessionRecord) => ({
    session: r.config.session,
    active: r.stoppedAt === null,
    config: r.config,
    startedAt: r.startedAt,
    stoppedAt: r.stoppedAt,
    stopReason: r.stopReason,
    inFlight: deps.inFlight(),
    tally: r.tally,
  });

  if (req.method === 'GET') return known ? reply(200, view(known)) : error(404, 'not_found', `no session ${id} here (the proxy may have restarted)`);
  if (req.method === 'DELETE') {
    if (!known) return error(404, 'not_found', `no session ${id} here (the proxy may have restarted)`);
    deps.stop(known, 'stopped by Glidepath');
    return reply(200, view(known));
  }
  if (req.method !== 'PUT') return error(405, 'method_not_allowed', 'use GET, PUT or DELETE');
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch (e) {
    return error(400, 'bad_request', (e as Error).message === 'too large' ? `the body must be at most ${MAX_BODY} bytes` : 'the body must be JSON');
  }
  const parsed = parseMirrorSession({ session: id, ...(body as object) });
  if (!parsed.ok) return error(400, 'validation_failed', parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; '), parsed.problems);
  if (parsed.session.session !== id)
    return error(400, 'validation_failed', 'session: must be the id in the path', [{ path: 'session', message: 'must be the id in the path' }]);
  if (Date.parse(parsed.session.expiresAt) <= Date.now())
    return error(400, 'validation_failed', 'expiresAt: must be in the future', [{ path: 'expiresAt', message: 'must be in the future' }]);
  if (known?.stoppedAt) return error(409, 'conflict', `session ${id} was stopped (${known.stopReason}): a step attempt opens a new one`);
  return reply(200, view(deps.open(parsed.session)));
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
