import { createGlidepathClient, type GlidepathClient, type Schemas } from '@glidepath/client';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

/**
 * The generated client (packages/client) driving the app through `inject`, no port: flow tests
 * read like a CI script and are typed by the OpenAPI document, as any other caller is.
 */
export function apiClient(app: FastifyInstance, token: string): GlidepathClient {
  return createGlidepathClient({ baseUrl: 'http://glidepath.test', token, fetch: injectFetch(app) });
}

function injectFetch(app: FastifyInstance): typeof fetch {
  return async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const payload = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => (headers[name] = value));
    const res = await app.inject({
      method: request.method as 'GET',
      url: `${url.pathname}${url.search}`,
      headers,
      ...(payload ? { payload } : {}),
    });
    const replyHeaders = new Headers();
    for (const [name, value] of Object.entries(res.headers))
      if (value !== undefined) replyHeaders.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    const empty = res.statusCode === 204 || res.statusCode === 304 || res.rawPayload.length === 0;
    return new Response(empty ? null : new Uint8Array(res.rawPayload), { status: res.statusCode, headers: replyHeaders });
  };
}

export const digest = (char: string) => `sha256:${char.repeat(64)}`;

type ErrorBody = { error?: { code: string; message: string; requestId: string; details?: unknown } };

/** A typed call's status and body (the data, or the API's error body), for tests that check both. */
export async function reply<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<{ status: number; body: T & ErrorBody }> {
  const { data, error, response } = await call;
  return { status: response.status, body: (data ?? error) as T & ErrorBody };
}

/**
 * Polls a release until its phase is one of `phases` and returns it. On a timeout the error shows the release as last
 * read, and `context()` (a worker's output, say) when given.
 */
export async function untilPhase(
  api: GlidepathClient,
  id: string,
  phases: readonly string[],
  o: { timeout?: number; interval?: number; context?: () => string } = {},
): Promise<Schemas['ReleaseDetail']> {
  let release: Schemas['ReleaseDetail'] | undefined;
  await expect
    .poll(
      async () => {
        release = (await api.GET('/api/v1/releases/{id}', { params: { path: { id } } })).data;
        return phases.includes(release?.phase ?? '');
      },
      { timeout: o.timeout ?? 60_000, interval: o.interval ?? 50 },
    )
    .toBe(true)
    .catch((error: Error) => {
      throw new Error(`${error.message}: release is ${JSON.stringify(release).slice(0, 3000)}${o.context ? `\n${o.context()}` : ''}`);
    });
  return release!;
}
