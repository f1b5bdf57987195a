import type { Prisma } from '../generated/prisma/client.ts';

/** What one instance of an environment runs, as the last ready deploy onto it put there. */
export interface InstanceRecord {
  name: string;
  digest: string;
  version: string;
  releaseId: string;
  updatedAt: Date;
}

type Tx = Pick<Prisma.TransactionClient, '$queryRaw' | '$executeRaw'>;

/** Every recorded instance of the environment (instances never deployed to by Glidepath have none). */
export async function readInstanceRecords(tx: Tx, environmentId: string): Promise<InstanceRecord[]> {
  return tx.$queryRaw<InstanceRecord[]>`
    SELECT name, digest, version, release_id::text AS "releaseId", updated_at AS "updatedAt"
      FROM environment_instance WHERE environment_id = ${environmentId}::uuid ORDER BY name`;
}

/**
 * Records what instances run now, in the transaction that accepted their deploys' verdicts, so the
 * record and the release's state never disagree. A deploy that failed records nothing: what it left
 * is unknown, and the release's state says so.
 */
export async function recordInstanceDigests(
  tx: Tx,
  environmentId: string,
  releaseId: string,
  instances: ReadonlyArray<{ name: string; digest: string; version: string }>,
  now: Date,
): Promise<void> {
  for (const i of instances) {
    await tx.$executeRaw`
      INSERT INTO environment_instance (environment_id, name, digest, version, release_id, updated_at)
      VALUES (${environmentId}::uuid, ${i.name}, ${i.digest}, ${i.version}, ${releaseId}::uuid, ${now})
      ON CONFLICT (environment_id, name) DO UPDATE SET
        digest = EXCLUDED.digest, version = EXCLUDED.version, release_id = EXCLUDED.release_id, updated_at = EXCLUDED.updated_at`;
  }
}
