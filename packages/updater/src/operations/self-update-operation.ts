import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { swarmError } from '@swarm/errors';
import { stagingDir } from '@swarm/release-dir';
import type { ReleaseRecord } from '../journal/journal.js';
import type { LifecycleContext } from './lifecycle-context.js';
import { stepDeadlines } from './plan.js';
import type { OperationContext } from './runner.js';
import { extractLimits } from './update-operation.js';
import { verifyUpload, type UploadReceiver } from '../receive/receive-upload.js';
import { stageSelfRelease } from '../self/stage-self-release.js';
import type { SupervisorChannel } from '../self/supervisor-channel.js';

/** How long an accepted self-update waits for the supervisor to stop this updater. */
export const SELF_SWITCH_WAIT_MS = 60_000;

/** What the self-update talks to besides the install directory. */
export interface SelfUpdateIo {
  /** The supervisor, or null when this updater runs without one. */
  readonly channel: SupervisorChannel | null;
  /** The release is staged complete: the route answers 202 with it. */
  accept(staged: ReleaseRecord & { attempt: string }): void;
  /** Resolves once the 202 has been sent: only then may the supervisor stop this process. */
  switchRequested(): Promise<void>;
}

/**
 * POST /update-self (wiki/reference/updater-api.md#post-update-self): the same receive and
 * verify steps as an update, then the release is staged complete in the self directory and
 * accepted (202). The operation then holds the runner — other mutating calls get 423 — until
 * the supervisor, asked to switch once the 202 is on the wire, stops this process (the
 * shutdown aborts the step), or fails with SWARM_ERR_SELF_UPDATE_FAILED after
 * {@link SELF_SWITCH_WAIT_MS}. Nothing of the install directory changes: the staging
 * directory of the upload is deleted whatever happens.
 */
export async function runSelfUpdate(
  ctx: LifecycleContext,
  op: OperationContext,
  receive: UploadReceiver,
  io: SelfUpdateIo,
): Promise<void> {
  const { config } = ctx;
  const staging = stagingDir(ctx.layout, `self-${op.id}`);
  const deadlines = stepDeadlines(config);
  let staged: ReleaseRecord;
  try {
    await mkdir(staging, { mode: 0o700 });
    const upload = await op.step(
      'receive',
      deadlines.receive,
      (signal) => receive(join(staging, 'release.tgz'), signal),
      {
        journal: false,
      },
    );
    await op.step('verify', deadlines.verify, async () => verifyUpload(upload), { journal: false });
    if (!config.selfDir || !io.channel) {
      throw swarmError(
        'SWARM_ERR_SELF_UPDATE_UNSUPPORTED',
        config.selfDir ? 'this updater was not started by a supervisor (`swarm updater --self-dir`)' : undefined,
        { sha256: upload.sha256 },
      );
    }
    const selfDir = config.selfDir;
    staged = await op.step(
      'extract',
      deadlines.extract,
      (signal) =>
        stageSelfRelease({
          selfDir,
          tarball: upload.file,
          sha256: upload.sha256,
          limits: extractLimits(config),
          signal,
        }),
      { journal: false },
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const channel = io.channel;
  const switching = io.switchRequested();
  io.accept({ ...staged, attempt: op.id });
  await op.step(
    'switch',
    SELF_SWITCH_WAIT_MS,
    async (signal) => {
      await switching;
      ctx.logger.info({ release: staged.id }, 'self-update staged; asking the supervisor to switch');
      channel.requestSwitch({ id: staged.id, version: staged.version, attempt: op.id });
      // The supervisor stops this process (SIGTERM → shutdown aborts `signal`).
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    },
    {
      journal: false,
      onTimeout: (ms) =>
        swarmError('SWARM_ERR_SELF_UPDATE_FAILED', `the supervisor did not switch to ${staged.id} within ${ms} ms`),
    },
  );
}
