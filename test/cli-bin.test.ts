import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

const bin = fileURLToPath(new URL('../packages/cli/bin/swarm.js', import.meta.url));

// The bin as a real process: what `npx swarm` runs once `npm ci` has built the workspace.
describe('the swarm bin', () => {
  it('lists the commands with --help and exits 0', () => {
    const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const command of ['init', 'enroll', 'hosts', 'decommission'])
      assert.match(r.stdout, new RegExp(`^  ${command} `, 'm'));
  });

  it('sets the exit code from the error: 2 for a usage error, code and hint on stderr only', () => {
    const r = spawnSync(process.execPath, [bin, 'enroll', '--host', 'web-1'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error SWARM_ERR_USAGE_INVALID: required option '--address <addr>' not specified\nhint: /);
  });
});
