// The typed Glidepath API client: openapi-fetch over types generated from the API's OpenAPI
// document (schema.gen.ts, by `pnpm client:generate`). Every path, body and reply is checked
// by the compiler; replies come back as { data } or { error } with the API's error body.
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.gen.ts';

export type { components, paths };
export type GlidepathClient = Client<paths>;
export type Schemas = components['schemas'];

export interface ClientOptions {
  /** Where Glidepath answers, e.g. https://glidepath.example.com (no /api/v1). */
  baseUrl: string;
  /** A service-account token; browsers use their session cookie instead. */
  token?: string;
  /** Extra headers on every request (the dashboard's x-csrf-token). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export function createGlidepathClient({ baseUrl, token, headers = {}, fetch: fetchImpl }: ClientOptions): GlidepathClient {
  const client = createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  return client;
}

/** The API's error body: a code, words for people, the request id, and field problems. */
export type ApiErrorBody = Schemas['ErrorReply'];

export type { Middleware };
