import { redactUrlCredentials, redactUrlText } from '@glidepath/core';
import type { FastifyReply } from 'fastify';

/**
 * Sends a reply PostgreSQL already wrote as JSON (the hot reads: audit page, release list and
 * detail), as it is: no parse, no serialiser. The route's response schema still documents it,
 * and the text is built to that schema (the read repositories in packages/db, checked against
 * the serialiser by release-read.test.ts). Strings go out unchanged, so credentials in URLs are
 * redacted here as the preSerialization hook does for objects: a text without any goes out as
 * it is (the check is one scan), one with some is parsed, redacted and written again.
 */
export function sendJsonText(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(withoutUrlCredentials(json));
}

export function withoutUrlCredentials(json: string): string {
  // A match on the raw text can only be wider than one on each decoded string (escapes add
  // characters, never remove them), so no credential slips past; a false alarm only costs the walk.
  if (redactUrlText(json) === json) return json;
  return JSON.stringify(redactUrlCredentials(JSON.parse(json) as unknown));
}
