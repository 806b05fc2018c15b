import { join } from 'node:path';
import { releaseDirPaths, type ReleaseDirPaths } from '@swarm/release-dir';

/**
 * The paths of an install directory (wiki/reference/layouts.md): a release directory
 * (`current -> releases/<id>`, @swarm/release-dir) plus the updater's journal and the agent's
 * files. Everything the updater writes lives here.
 */
export interface InstallLayout extends ReleaseDirPaths {
  /** The journal. */
  readonly state: string;
  /** The agent's pid file: its decimal PID and a newline. */
  readonly agentPid: string;
  /** The agent's identity (PID, start time, release), for adoption after a restart. */
  readonly agentRecord: string;
  readonly logs: string;
  readonly agentLog: string;
}

export function installLayout(root: string): InstallLayout {
  const paths = releaseDirPaths(root);
  return {
    ...paths,
    state: join(paths.root, 'state.json'),
    agentPid: join(paths.root, 'agent.pid'),
    agentRecord: join(paths.root, 'agent.json'),
    logs: join(paths.root, 'logs'),
    agentLog: join(paths.root, 'logs', 'agent.log'),
  };
}
