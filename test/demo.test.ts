// `npm run demo` is the README's first command: run it for real, as a user does, and check
// that it passes and that no process it started survives — also when interrupted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const demo = fileURLToPath(new URL('../scripts/demo.mjs', import.meta.url));

/** PIDs of live processes whose command line mentions `marker` (the demo's temp dir). */
function processesMentioning(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const cwd = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (cmdline.includes(marker) || cwd.includes(marker)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return pids;
}

function runDemo(options: { interruptAfter?: RegExp } = {}): Promise<{ code: number | null; out: string; work: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [demo], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SWARM_LOG_LEVEL: 'warn' } });
    let out = '';
    let interrupted = false;
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (options.interruptAfter && !interrupted && options.interruptAfter.test(out)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => {
      const work = /in (\/\S+swarm-demo-\w+)/.exec(out)?.[1] ?? '';
      resolve({ code, out, work });
    });
  });
}

async function settle(marker: string): Promise<number[]> {
  // Stopped processes may take a moment to be reaped.
  for (let i = 0; i < 50; i++) {
    const left = processesMentioning(marker);
    if (left.length === 0) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
  return processesMentioning(marker);
}

describe('npm run demo', { timeout: 300_000 }, () => {
  it('rolls out v1 and v2, has every host pull v2.1 from a registry, has the canary roll back a broken v3, prints the fleet, exits 0 and leaves nothing running', async () => {
    const { code, out, work } = await runDemo();
    assert.equal(code, 0, out);
    assert.match(out, /v1 on every host/);
    assert.match(out, /v2 staged on every host; every host still runs v1/);
    assert.match(out, /v2 on every host/);
    // docker-registry is installed wherever npm test runs (.ci/run installs it).
    assert.match(out, /each host pulled it and switched: \{"h1":"updated","h2":"updated","h3":"updated"\}/);
    assert.match(out, /the canary h1 failed its probe and rolled back by itself/);
    assert.match(out, /HOST\s+REACHABLE\s+UPDATER/);
    assert.match(out, /demo passed/);
    assert.ok(work, 'the demo did not print its directory');
    assert.deepEqual(await settle(work), [], 'processes of the demo survived it');
  });

  it('cleans up every process it started when interrupted with Ctrl-C mid-rollout', async () => {
    const { code, out, work } = await runDemo({ interruptAfter: /agent v1/ });
    assert.equal(code, 130, out);
    assert.match(out, /interrupted: stopping the fleet/);
    assert.ok(work);
    assert.deepEqual(await settle(work), [], 'processes of the demo survived Ctrl-C');
  });
});
