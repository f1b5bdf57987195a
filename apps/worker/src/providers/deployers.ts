import { builtInDeployerProviders, createDeployerRegistry, type CommandDeployerDeps, type Egress } from '@glidepath/providers';

/** The deployers this worker can drive; command deployers run only executables inside GLIDEPATH_DEPLOY_COMMAND_DIRS. */
export function createWorkerDeployers(options: { egress: Egress; commandDirs: string[]; stateDir: string }) {
  return createDeployerRegistry<CommandDeployerDeps>(builtInDeployerProviders(), {
    egress: options.egress,
    commandHost: { executableDirs: options.commandDirs, stateDir: options.stateDir },
  });
}
