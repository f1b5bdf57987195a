import pg from 'pg';

/** Columns a valid credential touches on every use; they say nothing about what a request changed. */
const VOLATILE_COLUMNS = ['last_used_at', 'last_seen_at'];

const queries = new Map<string, string>();
const clients = new Map<string, pg.Client>();

/**
 * One hash of every row of every table of a test database (less the columns above): equal
 * before and after a request means the request changed nothing. Some milliseconds on a test
 * database; one statement, built once per database from its catalog.
 */
export async function databaseFingerprint(databaseUrl: string): Promise<string> {
  let client = clients.get(databaseUrl);
  if (!client) {
    client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    clients.set(databaseUrl, client);
    const tables = await client.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE '\\_%' ORDER BY tablename`,
    );
    const drop = `ARRAY[${VOLATILE_COLUMNS.map((c) => `'${c}'`).join(',')}]`;
    queries.set(
      databaseUrl,
      tables.rows
        .map(
          ({ name }) =>
            `SELECT '${name}' AS t, count(*) AS n, md5(coalesce(string_agg(md5((to_jsonb(x) - ${drop}::text[])::text), '' ORDER BY md5((to_jsonb(x) - ${drop}::text[])::text)), '')) AS h FROM "${name}" x`,
        )
        .join(' UNION ALL '),
    );
  }
  const { rows } = await client.query<{ t: string; n: string; h: string }>(queries.get(databaseUrl)!);
  return rows.map((r) => `${r.t}:${r.n}:${r.h}`).join(' ');
}

/** Closes the connections opened for fingerprints. */
export async function closeFingerprints(): Promise<void> {
  await Promise.all([...clients.values()].map((c) => c.end()));
  clients.clear();
  queries.clear();
}
