import { fileURLToPath } from 'node:url';

/** The repository's prisma/migrations folder, wherever the process was started from. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../../prisma/migrations', import.meta.url));
export const SCHEMA_PATH = fileURLToPath(new URL('../../../../prisma/schema.prisma', import.meta.url));
