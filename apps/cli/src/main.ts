import { parseArgs, type ParseArgsConfig } from 'node:util';
import { connect } from './api.ts';
import { commands } from './commands.ts';
import { CliError, EXIT } from './exit-codes.ts';
import { USAGE } from './usage.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
const text = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;
const COMMON: Options = { url: text, token: text, json: flag, help: flag };
const CONTROL: Options = { reason: text };

/** The flags each command takes: any other is a usage error, so a typo never passes silently. */
const FLAGS: Record<string, Options> = {
  'artifact register': { service: text, version: text, digest: text, commit: text, 'build-url': text, meta: { type: 'string', multiple: true } },
  'plan apply': { name: text, 'dry-run': flag },
  'release create': { service: text, environment: text, version: text, plan: text, 'plan-version': text, reason: text, wait: flag, timeout: text },
  'release wait': { timeout: text },
  'release watch': {},
  'release get': {},
  'release list': { service: text, environment: text, phase: text, limit: text },
  'release pause': CONTROL,
  'release resume': CONTROL,
  'release promote': CONTROL,
  'release abort': CONTROL,
  'release rollback': CONTROL,
  'release retry': { 'from-step': text, reason: text },
  'release approve': { comment: text },
  'release reject': { comment: text },
  'drill run': { service: text, environment: text, reason: text, wait: flag, timeout: text },
  'drill list': { service: text, environment: text, limit: text },
};

async function main(argv: string[]): Promise<number> {
  const [group, verb, ...rest] = argv;
  if (!group || group === '--help' || group === '-h' || group === 'help') {
    process.stdout.write(USAGE);
    return group ? EXIT.ok : EXIT.usage;
  }
  const name = `${group} ${verb ?? ''}`.trim();
  const options = FLAGS[name];
  const command = commands[name];
  if (!options || !command) throw new CliError(EXIT.usage, `unknown command "${name}"`);

  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(EXIT.usage, (error as Error).message);
  }
  const flags = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (flags.help) {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  const url = (flags.url as string | undefined) ?? process.env.GLIDEPATH_URL;
  const token = (flags.token as string | undefined) ?? process.env.GLIDEPATH_TOKEN;
  if (!url) throw new CliError(EXIT.usage, 'GLIDEPATH_URL is not set (or pass --url https://glidepath.example.com)');
  if (!token) throw new CliError(EXIT.usage, 'GLIDEPATH_TOKEN is not set (or pass --token): a service-account token, see `pnpm token:create`');
  if (!/^https?:\/\/[^/]/.test(url)) throw new CliError(EXIT.usage, `GLIDEPATH_URL "${url}" is not an http(s) URL`);

  const json = Boolean(flags.json);
  return command({
    api: connect({ url, token }),
    flags,
    args: parsed.positionals,
    json,
    out: (line) => process.stdout.write(`${line}\n`),
    progress: json ? undefined : process.stderr,
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof CliError) {
      process.stderr.write(`glidepath: ${error.message}\n`);
      if (error.code === EXIT.usage) process.stderr.write('Run `glidepath --help` for the commands, flags and exit codes.\n');
      process.exit(error.code);
    }
    process.stderr.write(`glidepath: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(EXIT.unreachable);
  },
);
