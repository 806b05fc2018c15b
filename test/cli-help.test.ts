import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS, requestedCommand } from '@swarm/cli';
import { swarm } from './cli-harness.js';

/**
 * `swarm` loads only the command a run names (program.ts); every way of asking for help must
 * still see every command.
 */
describe('which commands a run loads', () => {
  it('names the command of a plain run, after global options with or without their value', () => {
    assert.equal(requestedCommand(['update', '--all']), 'update');
    assert.equal(requestedCommand(['--home', '/x', 'status', '--json']), 'status');
    assert.equal(requestedCommand(['--home=/x', 'hosts']), 'hosts');
    assert.equal(requestedCommand(['update', '--help']), 'update');
  });

  it('loads everything for help, version, `help <cmd>` and unknown commands', () => {
    for (const argv of [
      [],
      ['--help'],
      ['-h', 'update'],
      ['--help', 'status'],
      ['help', 'update'],
      ['-V'],
      ['updaet'],
    ]) {
      assert.equal(requestedCommand(argv), null, JSON.stringify(argv));
    }
  });

  for (const argv of [['--help'], ['--help', 'update'], ['-h', 'status']]) {
    it(`swarm ${argv.join(' ')} lists every command`, async () => {
      const r = await swarm(argv, {});
      assert.equal(r.code, 0, r.stderr);
      for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c.name}\\b`, 'm'), `${c.name} missing`);
    });
  }

  it('swarm update --help shows the command with its options', async () => {
    const r = await swarm(['update', '--help'], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: swarm update/m);
    assert.match(r.stdout, /--concurrency/);
  });

  it('a typo is still answered with a suggestion from every command', async () => {
    const r = await swarm(['updaet'], {});
    assert.equal(r.code, 2);
    assert.match(r.stderr, /update/);
  });
});
