import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { hasCode, swarmError } from '@swarm/errors';
import { SingleFlightRunner } from '../../src/operations/runner.js';

function runner(log: string[] = []) {
  return new SingleFlightRunner({
    onPhase: async (op, phase) => {
      log.push(`phase ${op.kind} ${phase}`);
    },
  });
}

describe('SingleFlightRunner', () => {
  it('claims the slot synchronously: a second run in the same tick is refused with UPDATER_BUSY and Retry-After', async () => {
    const r = runner();
    let release!: () => void;
    const first = r.run('update', () => new Promise<string>((resolve) => (release = () => resolve('done'))));
    const second = r.run('rollback', async () => 'never');
    await assert.rejects(second, (err: unknown) => {
      assert.ok(hasCode(err, 'SWARM_ERR_UPDATER_BUSY'));
      const details = (err as { details: { retryAfter: number; operation: { kind: string } } }).details;
      assert.ok(details.retryAfter > 0);
      assert.equal(details.operation.kind, 'update');
      return true;
    });
    assert.equal(r.busy, true);
    release();
    assert.equal(await first, 'done');
    assert.equal(r.busy, false);
    assert.equal(await r.run('rollback', async () => 'next'), 'next', 'free again once settled');
  });

  it('frees the slot when an operation fails', async () => {
    const r = runner();
    await assert.rejects(
      r.run('update', async () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(r.busy, false);
  });

  it('journals the phase before the step runs, and reports it while running', async () => {
    const log: string[] = [];
    const r = runner(log);
    await r.run('update', async (op) => {
      await op.step('extract', 1000, async () => {
        log.push(`run extract (phase ${r.operation?.phase})`);
      });
      await op.step('prune', 1000, async () => void log.push('run prune'), { journal: false });
    });
    assert.deepEqual(log, ['phase update extract', 'run extract (phase extract)', 'run prune']);
  });

  it('fails a step that runs past its deadline, aborting its signal, with the step timeout error', async () => {
    const r = runner();
    let aborted = false;
    await assert.rejects(
      r.run('update', (op) =>
        op.step(
          'install',
          50,
          async (signal) => {
            await sleep(5000, undefined, { signal }).catch(() => undefined);
            aborted = signal.aborted;
          },
          { onTimeout: (ms) => swarmError('SWARM_ERR_RELEASE_INSTALL_FAILED', `over ${ms} ms`) },
        ),
      ),
      (err: unknown) => hasCode(err, 'SWARM_ERR_RELEASE_INSTALL_FAILED') && /over 50 ms/.test((err as Error).message),
    );
    assert.equal(aborted, true);
  });

  it('a step without its own timeout error fails with UPDATER_INTERNAL naming the step', async () => {
    const r = runner();
    await assert.rejects(
      r.run('update', (op) => op.step('activate', 20, (signal) => sleep(5000, undefined, { signal }))),
      (err: unknown) => hasCode(err, 'SWARM_ERR_UPDATER_INTERNAL') && /activate/.test((err as Error).message),
    );
  });

  it('close() aborts the operation in flight with its reason, waits for it, and refuses new ones', async () => {
    const r = runner();
    const running = r.run('update', (op) => op.step('probe', 10_000, (signal) => sleep(10_000, undefined, { signal })));
    await sleep(10);
    await r.close(swarmError('SWARM_ERR_UPDATER_SHUTTING_DOWN'));
    await assert.rejects(running, (err: unknown) => hasCode(err, 'SWARM_ERR_UPDATER_SHUTTING_DOWN'));
    await assert.rejects(
      r.run('update', async () => 1),
      (err: unknown) => hasCode(err, 'SWARM_ERR_UPDATER_SHUTTING_DOWN'),
    );
  });
});
