import type { ConfigCheck, TrafficRouter, TrafficRouterProvider, TrafficTarget } from '@glidepath/core';
import { Type, type Static } from 'typebox';
import { configChecker } from '../registry/check-config.ts';
import type { Egress } from '../network/egress.ts';
import { parseRuntimeApiAddress, runtimeApiCommand, type SocketOpener } from './haproxy-runtime-api.ts';
import { parseGetWeightReply, serverWeightsFor, type ServerWeights } from './haproxy-weights.ts';

// Names go into runtime API command lines verbatim: no spaces, no `;` (the CLI's command separator).
const HaproxyName = Type.String({ pattern: '^[A-Za-z0-9_.:-]+$', maxLength: 128 });

const HaproxyConfigSchema = Type.Object(
  {
    runtimeApi: Type.String({
      pattern: '^(unix:/\\S+|tcp:(\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]\\s]+):[0-9]{1,5})$',
      description: "HAProxy's stats socket at level admin: unix:/path/to.sock or tcp:127.0.0.1:9999",
    }),
    backend: HaproxyName,
    /** The two servers a canary split moves between; left out on an environment whose instances (or slots) name the servers. */
    stableServer: Type.Optional(HaproxyName),
    canaryServer: Type.Optional(HaproxyName),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, description: 'per runtime API command; default 2000' })),
  },
  { additionalProperties: false },
);
export type HaproxyConfig = Static<typeof HaproxyConfigSchema>;

const DEFAULT_TIMEOUT_MS = 2000;

const checkSchema = configChecker(HaproxyConfigSchema);
function validateHaproxyConfig(config: unknown): ConfigCheck<HaproxyConfig> {
  const check = checkSchema(config);
  if (!check.ok) return check;
  try {
    parseRuntimeApiAddress(check.config.runtimeApi);
  } catch (error) {
    return { ok: false, problems: [{ path: 'runtimeApi', message: (error as Error).message }] };
  }
  if ((check.config.stableServer === undefined) !== (check.config.canaryServer === undefined)) {
    const missing = check.config.stableServer === undefined ? 'stableServer' : 'canaryServer';
    return { ok: false, problems: [{ path: missing, message: 'name both stableServer and canaryServer, or neither (an environment with instances)' }] };
  }
  if (check.config.stableServer !== undefined && check.config.stableServer === check.config.canaryServer) {
    return { ok: false, problems: [{ path: 'canaryServer', message: 'must name a different server than stableServer' }] };
  }
  return check;
}

/**
 * Shifts traffic between two servers of one HAProxy backend through the runtime API, with
 * absolute weights (canary w, stable 100 − w). The backend needs a dynamic algorithm such as
 * `roundrobin`: static ones (`static-rr`, map-based hashing) only accept 0% / 100%.
 * With `roundrobin` the new split is exact once settled, but for up to a few hundred requests
 * after a change it can be far off (a server whose weight rose may take every request for a
 * while, as fwrr keeps each server's place in the cycle); rollback and promote are immediate,
 * since a server at weight 0 leaves the rotation at once.
 *
 * Runtime weight changes live in HAProxy's memory only: a reload or restart brings back the
 * weights written in the config file unless HAProxy is set up with `server-state-file` and
 * `load-server-state-from-file` (and the state is dumped before reloading). That is the
 * operator's part; verifyWeight reports the drift, and the next reconcile rewrites the weights.
 */
export function haproxyRouterProvider(): TrafficRouterProvider<HaproxyConfig, { egress: Egress }> {
  return {
    type: 'haproxy',
    validateConfig: validateHaproxyConfig,
    setsInstanceWeights: true,
    destinations: (config) => [{ path: 'runtimeApi', target: parseRuntimeApiAddress(config.runtimeApi) }],
    create: (config, { egress }) => createHaproxyRouter(config, egress.connect),
  };
}

export function createHaproxyRouter(config: HaproxyConfig, open: SocketOpener): TrafficRouter {
  const { runtimeApi, backend } = config;
  // With slots that alternate, the slot names are the servers: the idle slot takes the canary's part.
  const serversOf = (target: TrafficTarget) => {
    if (target.slots) return { stableServer: target.slots.live, canaryServer: target.slots.idle };
    if (!config.stableServer || !config.canaryServer)
      throw new Error(`HAProxy router of backend ${backend} names no stableServer and canaryServer: it only sets the weights of named instances`);
    return { stableServer: config.stableServer, canaryServer: config.canaryServer };
  };
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const send = (command: string) => runtimeApiCommand(runtimeApi, command, timeoutMs, open);

  const setServerWeight = async (server: string, weight: number) => {
    const command = `set weight ${backend}/${server} ${weight}`;
    const reply = (await send(command)).trim();
    // Success is an empty reply (a bare newline); anything else is HAProxy explaining a refusal.
    if (reply) throw new Error(`HAProxy (${runtimeApi}) refused "${command}": ${reply}`);
  };

  const getServerWeight = async (server: string) => {
    const command = `get weight ${backend}/${server}`;
    const reply = await send(command);
    const parsed = parseGetWeightReply(reply);
    if (!parsed) throw new Error(`HAProxy (${runtimeApi}) answered "${command}" with: ${reply.trim() || '(nothing)'}`);
    return parsed.current;
  };

  const readWeights = async ({ stableServer, canaryServer }: ReturnType<typeof serversOf>): Promise<ServerWeights> => {
    const [stable, canary] = await Promise.all([getServerWeight(stableServer), getServerWeight(canaryServer)]);
    return { stable, canary };
  };

  const apply = async (target: TrafficTarget, canaryPercent: number) => {
    const { stableServer, canaryServer } = serversOf(target);
    const want = serverWeightsFor(canaryPercent);
    // The two commands are not atomic. Writing the server with the larger target first means
    // that server is non-zero from the first write on, whatever the weights were before, so
    // there is never a moment with both at 0 (HAProxy would answer 503). Between the two
    // writes the split lies between the old and the new one.
    const writes: [string, number][] = [
      [stableServer, want.stable],
      [canaryServer, want.canary],
    ];
    if (want.canary > want.stable) writes.reverse();
    for (const [server, weight] of writes) await setServerWeight(server, weight);

    const got = await readWeights({ stableServer, canaryServer });
    if (got.stable !== want.stable || got.canary !== want.canary) {
      throw new Error(
        `HAProxy (${runtimeApi}) did not keep the weights of backend ${backend}: asked ${stableServer}=${want.stable} ${canaryServer}=${want.canary}, ` +
          `reads ${stableServer}=${got.stable} ${canaryServer}=${got.canary}`,
      );
    }
  };

  /**
   * Every instance's weight at once. The servers that stay or come back in rotation are written
   * first, so the backend never has every server at 0 between two writes (the state machine never
   * asks for that either); then every weight is read back.
   */
  const applyInstances = async (weights: Readonly<Record<string, number>>) => {
    const entries = Object.entries(weights);
    for (const [server, weight] of entries) {
      if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(server)) throw new Error(`"${server}" is not a server name HAProxy's runtime API can take`);
      if (!Number.isInteger(weight) || weight < 0 || weight > 256) throw new RangeError(`weight of ${server} must be an integer 0–256, got ${weight}`);
    }
    const ordered = [...entries.filter(([, w]) => w > 0), ...entries.filter(([, w]) => w === 0)];
    for (const [server, weight] of ordered) await setServerWeight(server, weight);
    const got = await Promise.all(entries.map(async ([server]) => [server, await getServerWeight(server)] as const));
    const off = got.filter(([server, weight]) => weights[server] !== weight);
    if (off.length)
      throw new Error(
        `HAProxy (${runtimeApi}) did not keep the weights of backend ${backend}: ${off.map(([server, weight]) => `${server} asked ${weights[server]}, reads ${weight}`).join(', ')}`,
      );
  };

  // Calls on one router are serialised so that two shifts never interleave their writes.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => {});
    return run;
  };

  return {
    type: 'haproxy',
    setWeight: (target, canaryWeight) => serial(() => apply(target, canaryWeight)),
    verifyWeight: (target, canaryWeight) =>
      serial(async () => {
        const want = serverWeightsFor(canaryWeight);
        const got = await readWeights(serversOf(target));
        return got.stable === want.stable && got.canary === want.canary;
      }),
    promote: (target) => serial(() => apply(target, 100)),
    rollback: (target) => serial(() => apply(target, 0)),
    setInstanceWeights: (_target, weights) => serial(() => applyInstances(weights)),
    unknownInstances: (names) =>
      serial(async () => {
        const replies = await Promise.all(names.map(async (name) => [name, await send(`get weight ${backend}/${name}`)] as const));
        return replies
          .filter(([, reply]) => !parseGetWeightReply(reply))
          .map(([name, reply]) => ({ name, reason: `HAProxy has no server ${name} in backend ${backend} (${reply.trim() || 'no answer'})` }));
      }),
    // Nothing is held open between commands.
    close: async () => {},
  };
}
