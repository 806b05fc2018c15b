import { join, resolve } from 'node:path';

/**
 * The paths of an install directory (wiki/reference/layouts.md). Everything the updater writes lives here;
 * release directories are `releases/<id>`, staging and trash directories are dot-prefixed
 * siblings so they can never be mistaken for a release.
 */
export interface InstallLayout {
  readonly root: string;
  /** The atomic pointer: a symlink to `releases/<id>`. */
  readonly current: string;
  readonly releases: string;
  /** The journal. */
  readonly state: string;
  /** The agent's pid file: its decimal PID and a newline. */
  readonly agentPid: string;
  /** The agent's identity (PID, start time, release), for adoption after a restart. */
  readonly agentRecord: string;
  readonly logs: string;
  readonly agentLog: string;
}

/** Prefix of a directory that receives an upload (deleted at every start). */
export const STAGING_PREFIX = '.staging-';
/** Prefix of a release directory on its way out (renamed first, then deleted). */
export const TRASH_PREFIX = '.trash-';
/** Prefix of the temporary symlink renamed over `current`. */
export const CURRENT_TMP_PREFIX = 'current.tmp-';

export function installLayout(root: string): InstallLayout {
  const dir = resolve(root);
  return {
    root: dir,
    current: join(dir, 'current'),
    releases: join(dir, 'releases'),
    state: join(dir, 'state.json'),
    agentPid: join(dir, 'agent.pid'),
    agentRecord: join(dir, 'agent.json'),
    logs: join(dir, 'logs'),
    agentLog: join(dir, 'logs', 'agent.log'),
  };
}

/** Absolute directory of release `id`. */
export function releaseDir(layout: InstallLayout, id: string): string {
  return join(layout.releases, id);
}
