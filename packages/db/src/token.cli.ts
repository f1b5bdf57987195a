import { parseArgs } from 'node:util';
import { ConfigError, loadSettings } from '@glidepath/config';
import { ROLES, type Role } from '@glidepath/core';
import { createApiToken } from './identity/api-token.repository.ts';
import { createAuditedTransaction } from './audit/audited-transaction.ts';
import { createRedisEventBus } from './events/event-bus.ts';
import { createPrismaClient } from './prisma-client.ts';

// `pnpm token:create --name ci --role deployer [--service checkout-api [--environment prod]] [--expires-in-days 90]`:
// prints a new service-account token once. Tokens are also managed through the API (/api/v1/tokens).
const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    role: { type: 'string', default: 'deployer' },
    service: { type: 'string' },
    environment: { type: 'string' },
    'expires-in-days': { type: 'string' },
  },
});
const days = values['expires-in-days'] === undefined ? undefined : Number(values['expires-in-days']);
if (
  !values.name ||
  !/^[a-z0-9][a-z0-9-]{0,62}$/.test(values.name) ||
  !ROLES.includes(values.role as Role) ||
  (values.environment && !values.service) ||
  (days !== undefined && !(Number.isInteger(days) && days > 0 && days <= 3650))
) {
  console.error(
    `usage: pnpm token:create --name <lower-case-name> [--role ${ROLES.join('|')}] [--service <name> [--environment <name>]] [--expires-in-days 1-3650]`,
  );
  process.exit(2);
}
let settings;
try {
  // The same DATABASE_URL, REDIS_URL and GLIDEPATH_QUEUE_PREFIX rules as the API and the worker.
  settings = loadSettings(process.env, 'tools');
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const problem of error.problems) console.error(`token:create: ${problem}`);
  process.exit(1);
}
const prisma = createPrismaClient(settings.DATABASE_URL, 1);
const bus = createRedisEventBus(settings.REDIS_URL, () => {}, settings.GLIDEPATH_QUEUE_PREFIX);
try {
  let serviceId: string | null = null;
  let environmentId: string | null = null;
  if (values.service) {
    const service = await prisma.service.findUnique({ where: { name: values.service } });
    if (!service) throw new Error(`service "${values.service}" does not exist`);
    serviceId = service.id;
    if (values.environment) {
      const env = await prisma.environment.findUnique({ where: { serviceId_name: { serviceId, name: values.environment } } });
      if (!env) throw new Error(`environment "${values.environment}" of ${values.service} does not exist`);
      environmentId = env.id;
    }
  }
  const { secret } = await createApiToken(
    createAuditedTransaction(prisma, bus, () => {}),
    {
      name: values.name,
      roles: [{ role: values.role as Role, serviceId, environmentId }],
      expiresAt: days ? new Date(Date.now() + days * 86_400_000) : null,
    },
    { type: 'system', id: 'cli' },
  );
  console.log(secret);
} catch (error) {
  console.error(`token:create failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await prisma.$disconnect();
  await bus.close();
}
