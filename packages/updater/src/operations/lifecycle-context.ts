import type { Logger } from '@swarm/log';
import type { AgentProcess, AgentTarget } from '../agent/agent-process.js';
import type { UpdaterConfig } from '../config/config-keys.js';
import type { HealthCheck } from '../probe/check-result.js';
import type { InstallLayout } from '../install-dir/install-layout.js';
import type { Journal, ReleaseRecord } from '../journal/journal.js';

/** What the lifecycle steps work with. */
export interface LifecycleContext {
  readonly config: UpdaterConfig;
  readonly layout: InstallLayout;
  readonly journal: Journal;
  readonly agentProcess: AgentProcess;
  readonly logger: Logger;
  /** The environment of a release process (start, install, exec checks) running in `dir`. */
  envFor(dir: string, version: string): NodeJS.ProcessEnv;
  /** The single health check of a release. */
  checkFor(target: AgentTarget): HealthCheck | null;
  /** A committed or staged release, resolved: real directory and validated manifest. */
  targetOf(release: ReleaseRecord): Promise<AgentTarget>;
}

/** What a finished operation answers (200). */
export interface OperationResult {
  /** The operation's id (also in the journal's history). */
  readonly operation: string;
  readonly outcome: 'updated' | 'unchanged' | 'rolled_back';
  /** The release the operation brought in. */
  readonly release: ReleaseRecord;
  readonly active: ReleaseRecord | null;
  readonly prev: ReleaseRecord | null;
  readonly durationMs: number;
  /** What the probe saw. */
  readonly probe: string | null;
}
