import { stat } from 'node:fs/promises';
import { swarmError } from '@swarm/errors';
import { installLayout } from '../install-dir/install-layout.js';
import { Journal, type JournalState } from './journal.js';

/**
 * The journal of an install directory, read without the daemon and without its lock: for
 * `swarm updater state`, which must work while the updater is down or busy and change
 * nothing. Every write of the journal is an atomic rename, so a read sees one whole state.
 * An install directory with no journal yet has the empty state; a missing directory, or a
 * journal that is not one, is an error.
 */
export async function readInstallState(installDir: string): Promise<JournalState> {
  const layout = installLayout(installDir);
  const dir = await stat(layout.root).catch(() => null);
  if (!dir?.isDirectory()) {
    throw swarmError('SWARM_ERR_CONFIG_INVALID', `${layout.root} is not an install directory (it does not exist)`, {
      installDir: layout.root,
    });
  }
  return (await Journal.open(layout.state, Number.POSITIVE_INFINITY)).current;
}
