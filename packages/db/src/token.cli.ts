import { parseArgs } from 'node:util';
import { createApiToken, TOKEN_ROLES, type TokenRole } from './auth/api-tokens.ts';
import { createAuditedTransaction } from './audit/audited-transaction.ts';
import { createRedisEventBus } from './events/event-bus.ts';
import { createPrismaClient } from './prisma-client.ts';

// `pnpm token:create --name ci --role deployer`: prints a new API token once.
const { values } = parseArgs({ options: { name: { type: 'string' }, role: { type: 'string', default: 'deployer' } } });
if (!values.name || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(values.name) || !TOKEN_ROLES.includes(values.role as TokenRole)) {
  console.error(`usage: pnpm token:create --name <lower-case-name> [--role ${TOKEN_ROLES.join('|')}]`);
  process.exit(2);
}
const prisma = createPrismaClient(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/glidepath', 1);
const bus = createRedisEventBus(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', () => {}, process.env.GLIDEPATH_QUEUE_PREFIX || 'glidepath');
try {
  const { token } = await createApiToken(
    createAuditedTransaction(prisma, bus, () => {}),
    { name: values.name, role: values.role as TokenRole },
    { type: 'system', id: 'cli' },
  );
  console.log(token);
} catch (error) {
  console.error(`token:create failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await prisma.$disconnect();
  await bus.close();
}
