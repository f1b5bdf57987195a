import pino from 'pino';
import { ConfigError, loadConfig, type WorkerConfig } from './config.ts';
import { startWorker } from './worker.ts';

let config: WorkerConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  // A configuration problem is the operator's to fix: one line each, no stack. Anything else is a bug: show it whole.
  if (error instanceof ConfigError) for (const problem of error.problems) console.error(`glidepath worker: ${problem}`);
  else console.error(`glidepath worker: could not read the configuration`, error);
  process.exit(1);
}
const log = pino({ level: config.logLevel });

try {
  const worker = await startWorker(config, log);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down: waiting for running jobs');
    await worker.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
} catch (error) {
  log.fatal({ err: error }, `glidepath worker failed to start: ${(error as Error).message}`);
  process.exit(1);
}
