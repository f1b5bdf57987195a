import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { normaliseHost } from '@glidepath/core';
import { pinnedLookup, type AddressVetting } from './address-vetting.ts';

export interface EgressRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** `follow` (the default, as fetch) checks every hop against the policy before connecting to it. */
  redirect?: 'follow' | 'manual';
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Errors as fetch reports them (TypeError "fetch failed" with the cause), so callers read them the same way. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

function toResponse(res: IncomingMessage, method: string): Response {
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 599) {
    res.destroy();
    throw fetchFailed(new Error(`answered with HTTP status ${status}, outside 200-599`));
  }
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    try {
      headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
    } catch {
      // A header fetch would refuse too: leave it out rather than fail the call.
    }
  }
  const noBody = method === 'HEAD' || status === 204 || status === 205 || status === 304;
  if (noBody) res.resume();
  const statusText = /^[\t\x20-\x7e]*$/.test(res.statusMessage ?? '') ? res.statusMessage : '';
  return new Response(noBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>), { status, statusText, headers });
}

/**
 * One request to one URL: the host is resolved and every address checked first, and the
 * connection goes only to those addresses. Plain node:http rather than the global fetch,
 * whose connection cannot be pinned without another dependency. No Accept-Encoding is sent,
 * so bodies arrive uncompressed as fetch would hand them over.
 */
async function requestOnce(
  vetting: AddressVetting,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array | undefined,
  signal?: AbortSignal,
) {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fetchFailed(new Error(`only http and https URLs are called, not ${url.protocol}`));
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const addresses = await vetting.vetHost(url.hostname, port, signal);
  if (signal?.aborted) throw signal.reason;
  // fetch refuses URLs with credentials; here they become Basic authentication, and never a log line.
  const auth =
    (url.username || url.password) && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')
      ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}` }
      : {};
  const length = body === undefined ? {} : { 'content-length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength) };
  return new Promise<Response>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
      host: normaliseHost(url.hostname),
      port,
      path: `${url.pathname}${url.search}`,
      method,
      headers: { host: url.host, ...auth, ...headers, ...length },
      agent: false,
      lookup: pinnedLookup(addresses),
    });
    let response: IncomingMessage | undefined;
    const onAbort = () => {
      request.destroy(signal!.reason);
      response?.destroy(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    request.on('error', (error) => {
      done();
      reject(signal?.aborted ? signal.reason : fetchFailed(error));
    });
    request.on('response', (res) => {
      response = res;
      res.on('close', done);
      try {
        resolve(toResponse(res, method));
      } catch (error) {
        done();
        reject(error);
      }
    });
    request.end(body);
  });
}

/**
 * fetch through the network policy, for the calls that need it: method, headers, a string
 * or byte body, an abort signal, and redirects either returned (`manual`) or followed with the
 * policy checked again on each hop.
 */
export function createGuardedFetch(vetting: AddressVetting) {
  return async function guardedFetch(input: string | URL, init: EgressRequestInit = {}): Promise<Response> {
    let url: URL;
    try {
      url = new URL(input);
    } catch (error) {
      throw fetchFailed(error);
    }
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    let headers = { ...init.headers };
    for (let hop = 0; ; hop++) {
      const response = await requestOnce(vetting, url, method, headers, body, init.signal);
      const location = response.headers.get('location');
      if (init.redirect === 'manual' || !REDIRECTS.has(response.status) || location === null) return response;
      await response.body?.cancel().catch(() => {});
      if (hop === MAX_REDIRECTS) throw fetchFailed(new Error(`more than ${MAX_REDIRECTS} redirects`));
      let next: URL;
      try {
        next = new URL(location, url);
      } catch (error) {
        throw fetchFailed(error);
      }
      // As fetch: 303, and 301/302 after a POST, continue as a GET without the body.
      if (response.status === 303 ? method !== 'HEAD' : (response.status === 301 || response.status === 302) && method === 'POST') {
        method = 'GET';
        body = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([h]) => !/^content-/i.test(h)));
      }
      // Credentials are for the origin they were given for.
      if (next.origin !== url.origin) headers = Object.fromEntries(Object.entries(headers).filter(([h]) => !/^(authorization|cookie)$/i.test(h)));
      url = next;
    }
  };
}
