import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_BY_CODE, type ErrorCode } from './app-error.ts';

/**
 * What Fastify's router refuses before any route runs: a URL that is not valid percent-encoding
 * (400), a path segment longer than the router keeps (414). In the error model, with a short
 * message: the URL itself is not echoed back.
 */
export function frameworkErrors(error: { code?: string; message: string }, request: FastifyRequest, reply: FastifyReply): void {
  const [code, message]: [ErrorCode, string] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? ['uri_too_long', 'url: a path segment is longer than 100 characters']
      : error.code === 'FST_ERR_BAD_URL'
        ? ['bad_request', 'url: is not valid percent-encoding']
        : ['bad_request', `url: ${error.message}`];
  void reply.status(STATUS_BY_CODE[code]).send({ error: { code, message, requestId: request.id } });
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (headers or URL beyond its
 * 16 KiB, a request line that is not HTTP, a client too slow to send its headers): answered in the
 * error model too, then the connection is closed, as Node would.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const [code, message]: [ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? ['headers_too_large', 'headers: the request line and headers together exceed 16 KiB']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['request_timeout', 'request: the headers did not arrive in time']
        : ['bad_request', `request: is not a valid HTTP request (${error.code ?? 'parse error'})`];
  const status = STATUS_BY_CODE[code];
  const body = JSON.stringify({ error: { code, message, requestId: randomUUID() } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };
