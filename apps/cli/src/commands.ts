import { readFileSync } from 'node:fs';
import type { GlidepathClient, Schemas } from '@glidepath/client';
import { parseDuration, validatePlan } from '@glidepath/core';
import { createTwoFilesPatch } from 'diff';
import { parse as parseYaml, stringify } from 'yaml';
import { must } from './api.ts';
import { CliError, EXIT, type ExitCode } from './exit-codes.ts';
import { describe, waitForOutcome } from './wait.ts';

export type Flags = Record<string, string | boolean | string[] | undefined>;
export interface Context {
  api: GlidepathClient;
  flags: Flags;
  args: string[];
  json: boolean;
  out: (text: string) => void;
  /** Progress for people (stderr); undefined with --json. */
  progress?: NodeJS.WriteStream;
}
type Command = (ctx: Context) => Promise<ExitCode>;
/** Checked by core's validatePlan before it is sent. */
type PlanSpec = Schemas['PlanSpec'];

const CONTROLS = ['pause', 'resume', 'promote', 'abort', 'rollback'] as const;

function required(flags: Flags, name: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || !value) throw new CliError(EXIT.usage, `--${name} is required`);
  return value;
}

function optional(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' && value ? value : undefined;
}

function releaseId(ctx: Context): string {
  const id = ctx.args[0];
  if (!id) throw new CliError(EXIT.usage, 'the release id is required');
  return id;
}

function timeoutMs(flags: Flags, fallback: string): number {
  const text = optional(flags, 'timeout') ?? fallback;
  const ms = parseDuration(text);
  if (ms === null || ms <= 0) throw new CliError(EXIT.usage, `--timeout: "${text}" is not a duration such as 90s, 30m or 2h`);
  return ms;
}

/** Prints the outcome of a wait and returns its exit code. */
async function follow(ctx: Context, id: string, timeout: number): Promise<ExitCode> {
  try {
    const { release, code } = await waitForOutcome(ctx.api, id, { timeoutMs: timeout, progress: ctx.progress });
    ctx.out(ctx.json ? JSON.stringify({ outcome: release.phase, exitCode: code, release }) : `${release.phase}: ${describe(release)}`);
    return code;
  } catch (error) {
    if (error instanceof CliError && ctx.json) ctx.out(JSON.stringify({ outcome: 'unknown', exitCode: error.code, error: error.message }));
    throw error;
  }
}

/** The API stores plans as JSONB, which orders keys its own way: compare both sides in one order. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** The environment named by --service and --environment (drills are addressed by environment id). */
async function environmentId(ctx: Context): Promise<string> {
  const service = required(ctx.flags, 'service');
  const name = required(ctx.flags, 'environment');
  const { items } = await must(ctx.api.GET('/api/v1/environments', { params: { query: { service } } }), `environments of ${service}`);
  const found = items.find((e) => e.name === name);
  if (!found) throw new CliError(EXIT.refused, `service "${service}" has no environment "${name}"`);
  return found.id;
}

type Drill = Schemas['Drill'];
const drillLine = (d: Drill) =>
  `${d.id}  ${d.createdAt}  ${d.trigger}  ${d.status}${d.timeToRollbackMs === null ? '' : `  ${d.timeToRollbackMs} ms${d.slow ? ' (slow)' : ''}`}${d.reason ? `  ${d.reason}` : ''}`;

const commands: Record<string, Command> = {
  async 'drill run'(ctx) {
    const id = await environmentId(ctx);
    const wait = Boolean(ctx.flags.wait);
    const timeout = wait ? timeoutMs(ctx.flags, '30m') : 0;
    const reason = optional(ctx.flags, 'reason');
    let drill = await must(ctx.api.POST('/api/v1/environments/{id}/drills', { params: { path: { id } }, body: reason ? { reason } : {} }), 'start drill');
    if (!wait) {
      ctx.out(
        ctx.json ? JSON.stringify(drill) : `drill ${drill.id}: ${drill.status} (release ${drill.releaseId}, version ${drill.version} to slot ${drill.slot})`,
      );
      return EXIT.ok;
    }
    ctx.progress?.write(
      `drill ${drill.id}: version ${drill.version} to slot ${drill.slot}, ${drill.weight}% of traffic, then back (release ${drill.releaseId})\n`,
    );
    const deadline = Date.now() + timeout;
    while (drill.status === 'running' || drill.status === 'waiting') {
      if (Date.now() >= deadline) {
        ctx.out(ctx.json ? JSON.stringify({ outcome: 'unknown', exitCode: EXIT.timedOut, drill }) : `gave up waiting: drill ${drill.id} is ${drill.status}`);
        return EXIT.timedOut;
      }
      await new Promise((r) => setTimeout(r, 500));
      const { items } = await must(ctx.api.GET('/api/v1/environments/{id}/drills', { params: { path: { id }, query: { limit: 20 } } }), 'read drills');
      drill = items.find((d) => d.id === drill.id) ?? drill;
    }
    // A slow drill rolled back: it succeeded, and says it was slow; a failed one is a failure, as a rolled-back release is.
    const code = drill.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    ctx.out(ctx.json ? JSON.stringify({ outcome: drill.status, exitCode: code, drill }) : `${drill.status}: ${drill.reason ?? ''}`);
    return code;
  },

  async 'drill list'(ctx) {
    const id = await environmentId(ctx);
    const limit = optional(ctx.flags, 'limit');
    if (limit !== undefined && !/^[1-9]\d*$/.test(limit)) throw new CliError(EXIT.usage, `--limit: "${limit}" is not a positive number`);
    const page = await must(
      ctx.api.GET('/api/v1/environments/{id}/drills', { params: { path: { id }, query: { limit: limit ? Number(limit) : undefined } } }),
      'list drills',
    );
    ctx.out(ctx.json ? JSON.stringify(page) : page.items.map(drillLine).join('\n') || 'no drills');
    return EXIT.ok;
  },

  async 'artifact register'(ctx) {
    const metadata = Object.fromEntries(
      ([ctx.flags.meta ?? []].flat() as string[]).map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new CliError(EXIT.usage, `--meta "${pair}": write it as key=value`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    );
    const artifact = await must(
      ctx.api.POST('/api/v1/artifacts', {
        body: {
          service: required(ctx.flags, 'service'),
          version: required(ctx.flags, 'version'),
          digest: required(ctx.flags, 'digest'),
          commitSha: optional(ctx.flags, 'commit'),
          buildUrl: optional(ctx.flags, 'build-url'),
          ...(Object.keys(metadata).length ? { metadata } : {}),
        },
      }),
      'register artifact',
    );
    ctx.out(ctx.json ? JSON.stringify(artifact) : `artifact ${artifact.service} ${artifact.version} ${artifact.digest} (${artifact.id})`);
    return EXIT.ok;
  },

  async 'plan apply'(ctx) {
    const file = ctx.args[0];
    if (!file) throw new CliError(EXIT.usage, 'the plan file is required: glidepath plan apply plan.yaml');
    let document: unknown;
    try {
      document = parseYaml(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new CliError(EXIT.usage, `${file}: ${(error as Error).message}`);
    }
    // A file holds { name, spec } or just the spec (then --name names it).
    const wrapped = document as { name?: unknown; spec?: unknown };
    const spec = wrapped && typeof wrapped === 'object' && 'spec' in wrapped ? wrapped.spec : document;
    const name = optional(ctx.flags, 'name') ?? (typeof wrapped?.name === 'string' ? wrapped.name : undefined);
    if (!name) throw new CliError(EXIT.usage, `${file}: no plan name: give the file a "name:" or pass --name`);
    const check = validatePlan(spec);
    if (!check.ok) throw new CliError(EXIT.refused, `${file} is not a valid plan:${check.problems.map((p) => `\n  ${p.path}: ${p.message}`).join('')}`);

    // 404: a new plan. Anything else but the stored plan ends the command with the API's words.
    const read = ctx.api.GET('/api/v1/plans/{name}', { params: { path: { name } } });
    const stored = await must(read, `read plan ${name}`).catch((error: unknown) => {
      if (error instanceof CliError && error.status === 404) return undefined;
      throw error;
    });
    const before = stored ? stringify(sortKeys(stored.spec)) : '';
    const after = stringify(sortKeys(spec));
    const changed = before !== after;
    const diff = changed
      ? createTwoFilesPatch(stored ? `${name} v${stored.version}` : '(none)', `${name} (${file})`, before, after, '', '', { context: 3 })
      : '';
    // Warnings (an analysis too short for the traffic the plan states) never stop a save: they are said after it.
    const { warnings } = check;
    const warned = warnings.map((w) => `\nwarning: ${w.path}: ${w.message}`).join('');
    if (!changed || ctx.flags['dry-run']) {
      ctx.out(
        ctx.json
          ? JSON.stringify({ name, changed, stored: stored?.version ?? null, diff, warnings })
          : (changed ? diff : `plan ${name} v${stored!.version}: no change`) + warned,
      );
      return EXIT.ok;
    }
    const saved = stored
      ? await must(ctx.api.PUT('/api/v1/plans/{name}', { params: { path: { name } }, body: { spec: spec as PlanSpec } }), `save plan ${name}`)
      : await must(ctx.api.POST('/api/v1/plans', { body: { name, spec: spec as PlanSpec } }), `create plan ${name}`);
    ctx.out(ctx.json ? JSON.stringify({ name, changed, stored: saved.version, diff, warnings }) : `${diff}saved plan ${name} v${saved.version}${warned}`);
    return EXIT.ok;
  },

  async 'release create'(ctx) {
    const planVersion = optional(ctx.flags, 'plan-version');
    if (planVersion !== undefined && !/^[1-9]\d*$/.test(planVersion))
      throw new CliError(EXIT.usage, `--plan-version: "${planVersion}" is not a version number`);
    const wait = Boolean(ctx.flags.wait);
    const timeout = wait ? timeoutMs(ctx.flags, '30m') : 0;
    const release = await must(
      ctx.api.POST('/api/v1/releases', {
        body: {
          service: required(ctx.flags, 'service'),
          environment: required(ctx.flags, 'environment'),
          version: required(ctx.flags, 'version'),
          plan: required(ctx.flags, 'plan'),
          ...(planVersion ? { planVersion: Number(planVersion) } : {}),
          reason: optional(ctx.flags, 'reason'),
        },
      }),
      'start release',
    );
    if (!wait) {
      ctx.out(ctx.json ? JSON.stringify(release) : `release ${release.id}: ${release.phase}`);
      return EXIT.ok;
    }
    ctx.progress?.write(`release ${release.id}: ${release.service.name} ${release.artifact.version} → ${release.environment.name}\n`);
    return follow(ctx, release.id, timeout);
  },

  async 'release wait'(ctx) {
    return follow(ctx, releaseId(ctx), timeoutMs(ctx.flags, '30m'));
  },

  async 'release watch'(ctx) {
    return follow(ctx, releaseId(ctx), Number.MAX_SAFE_INTEGER);
  },

  async 'release get'(ctx) {
    const id = releaseId(ctx);
    const release = await must(ctx.api.GET('/api/v1/releases/{id}', { params: { path: { id } } }), `release ${id}`);
    ctx.out(
      ctx.json
        ? JSON.stringify(release)
        : [
            `${release.id}  ${release.service.name} ${release.artifact.version} → ${release.environment.name}`,
            describe(release),
            ...(release.undoes ? [`undoes ${release.undoes}`] : []),
            ...(release.undoneBy ? [`undone by ${release.undoneBy}`] : []),
          ].join('\n'),
    );
    return EXIT.ok;
  },

  async 'release list'(ctx) {
    const limit = optional(ctx.flags, 'limit');
    if (limit !== undefined && !/^[1-9]\d*$/.test(limit)) throw new CliError(EXIT.usage, `--limit: "${limit}" is not a positive number`);
    const page = await must(
      ctx.api.GET('/api/v1/releases', {
        params: {
          query: {
            service: optional(ctx.flags, 'service'),
            environment: optional(ctx.flags, 'environment'),
            phase: optional(ctx.flags, 'phase') as never,
            limit: limit ? Number(limit) : undefined,
          },
        },
      }),
      'list releases',
    );
    ctx.out(
      ctx.json
        ? JSON.stringify(page)
        : page.items.map((r) => `${r.id}  ${r.createdAt}  ${r.service.name} ${r.artifact.version} → ${r.environment.name}  ${r.phase}`).join('\n') ||
            'no releases',
    );
    return EXIT.ok;
  },

  async 'release retry'(ctx) {
    const id = releaseId(ctx);
    const from = required(ctx.flags, 'from-step');
    if (!/^\d+$/.test(from)) throw new CliError(EXIT.usage, `--from-step: "${from}" is not a step number (0 is the first)`);
    const reply = await must(
      ctx.api.POST('/api/v1/releases/{id}/retry', { params: { path: { id } }, body: { fromStep: Number(from), reason: optional(ctx.flags, 'reason') } }),
      `retry release ${id}`,
    );
    ctx.out(ctx.json ? JSON.stringify(reply) : `release ${id}: ${reply.accepted ? 'retry accepted' : reply.release.phase}`);
    return EXIT.ok;
  },

  async 'release approve'(ctx) {
    const id = releaseId(ctx);
    const comment = optional(ctx.flags, 'comment');
    const reply = await must(
      ctx.api.POST('/api/v1/releases/{id}/approve', { params: { path: { id } }, body: comment ? { comment } : {} }),
      `approve release ${id}`,
    );
    ctx.out(ctx.json ? JSON.stringify(reply) : `release ${id}: approved, now ${reply.release.phase}`);
    return EXIT.ok;
  },

  async 'release reject'(ctx) {
    const id = releaseId(ctx);
    const reply = await must(
      ctx.api.POST('/api/v1/releases/{id}/reject', { params: { path: { id } }, body: { comment: required(ctx.flags, 'comment') } }),
      `reject release ${id}`,
    );
    ctx.out(ctx.json ? JSON.stringify(reply) : `release ${id}: rejected, now ${reply.release.phase}`);
    return EXIT.ok;
  },
};

for (const control of CONTROLS) {
  commands[`release ${control}`] = async (ctx) => {
    const id = releaseId(ctx);
    const reason = optional(ctx.flags, 'reason');
    const reply = await must(
      ctx.api.POST(`/api/v1/releases/{id}/${control}`, { params: { path: { id } }, body: reason ? { reason } : {} }),
      `${control} release ${id}`,
    );
    // A succeeded release no longer kept on the other slot is rolled back by a release of the version before it.
    const undo = reply.rollbackRelease;
    const said = undo
      ? `rollback started as release ${undo.id} (version ${undo.artifact.version} again, undoes ${id})`
      : reply.accepted
        ? `${control} accepted`
        : reply.release.phase;
    ctx.out(ctx.json ? JSON.stringify(reply) : `release ${id}: ${said}`);
    return EXIT.ok;
  };
}

export { commands };
