import { redactUrlCredentials } from '@glidepath/core';
import type { FastifyReply } from 'fastify';

/**
 * Sends a reply PostgreSQL already wrote as JSON (the hot reads: audit page, release list and
 * detail), as it is: no parse, no serialiser. The route's response schema still documents it,
 * and the text is built to that schema (the read repositories in packages/db, checked against
 * the serialiser by release-read.test.ts). Strings skip the preSerialization hook, so
 * credentials in URLs are redacted here: a text without any goes out as it is (one scan), one
 * that may hold some is parsed, redacted as objects are, and written again.
 */
export function sendJsonText(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(mayHoldUrlCredentials(json) ? JSON.stringify(redactUrlCredentials(JSON.parse(json))) : json);
}

/**
 * True when some `scheme://…@` in the text could be a URL with credentials: after each "://",
 * an "@" before any "/", "?", "#", "@", whitespace or the end of the JSON string (what core's
 * redaction looks for). On JSON text that finds at least what it finds in each decoded string
 * (escapes add characters, never remove the ones that end a user-info), so no credential slips
 * past; a false alarm only costs the parse. Much cheaper than the regular expression over a page.
 */
export function mayHoldUrlCredentials(text: string): boolean {
  // "//" rather than "://": a colon is in every key of PostgreSQL's JSON, a slash is rare.
  for (let slashes = text.indexOf('//'); slashes !== -1; slashes = text.indexOf('//', slashes + 2)) {
    if (text.charCodeAt(slashes - 1) !== 58 /* : */) continue;
    for (let i = slashes + 2; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 64 /* @ */) {
        if (i > slashes + 2) return true;
        break;
      }
      if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */ || c <= 32) break;
      if (c === 34 /* " */ && !escaped(text, i)) break;
    }
  }
  return false;
}

/** Whether the character at `i` is escaped: an odd number of backslashes before it. */
function escaped(text: string, i: number): boolean {
  let n = 0;
  while (i - n - 1 >= 0 && text.charCodeAt(i - n - 1) === 92 /* \ */) n++;
  return n % 2 === 1;
}
