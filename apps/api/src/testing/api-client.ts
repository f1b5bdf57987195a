import type { FastifyInstance } from 'fastify';

/** Thin JSON helpers over `inject`, so flow tests read like a CI script. */
export function apiClient(app: FastifyInstance, token: string) {
  const call = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.inject({ method, url: `/api/v1${url}`, payload: payload as object, headers: { authorization: `Bearer ${token}`, ...headers } });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } } };
  };
  return {
    get: (url: string) => call('GET', url),
    post: (url: string, payload?: unknown, headers?: Record<string, string>) => call('POST', url, payload ?? {}, headers),
    put: (url: string, payload?: unknown) => call('PUT', url, payload),
    patch: (url: string, payload?: unknown) => call('PATCH', url, payload),
  };
}

export const digest = (char: string) => `sha256:${char.repeat(64)}`;
