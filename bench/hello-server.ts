// Baseline for bench/api-read.bench.ts: a bare Fastify hello world, no plugins, no logger.
// Started by the benchmark as a child process; prints `listening <port>` once it accepts connections.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
if (address === null || typeof address === 'string') throw new Error(`unexpected listen address ${String(address)}`);
process.stdout.write(`listening ${address.port}\n`);

const shutdown = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
