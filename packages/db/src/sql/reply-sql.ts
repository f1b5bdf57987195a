import { createHash } from 'node:crypto';
import type pg from 'pg';

/** What a read needs of pg: a Pool (the one Prisma runs on, see sqlPool), a client, or a bench's own pool. */
export type Queryable = Pick<pg.Pool, 'query'>;

const names = new Map<string, string>();

/**
 * A named statement: PostgreSQL parses and plans it once per connection, then only binds and
 * executes it. The name is derived from the text, so each variant of a read (which filters it
 * has) is its own statement and never collides with another.
 */
export function statement(text: string, values: unknown[]): pg.QueryConfig {
  let name = names.get(text);
  if (name === undefined) {
    name = `gp_${createHash('sha256').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return { name, text, values };
}

/** A timestamptz as JavaScript's Date#toISOString() writes it (UTC, milliseconds, "Z"). */
export function isoUtc(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** Collects the values of a statement, handing out their $n placeholders. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

/** A list of JSON texts (each already one JSON value) as a JSON array. */
export function jsonArray(texts: readonly string[]): string {
  return `[${texts.join(',')}]`;
}
