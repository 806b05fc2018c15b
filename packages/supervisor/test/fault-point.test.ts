// The supervisor's fault points: inert unless SWARM_TEST_KILL_AT names one, and then a real
// SIGKILL of the process on the spot (test/reliability's self-update kill table relies on both).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { FAULT_ENV, SUPERVISOR_FAULT_POINTS } from '../src/index.js';

const FAULT_POINT_MODULE = fileURLToPath(new URL('../src/fault-point.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Reach `point` in a child process armed with `armed`; how it ended and what it printed after. */
function reach(point: string, armed: string | undefined) {
  const code = `import { faultPoint } from ${JSON.stringify(FAULT_POINT_MODULE)};
faultPoint(${JSON.stringify(point)});
process.stdout.write('survived');`;
  const env = { ...process.env };
  delete env[FAULT_ENV];
  if (armed !== undefined) env[FAULT_ENV] = armed;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: PACKAGE_DIR,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise<{ signal: NodeJS.Signals | null; out: string }>((resolve) =>
    child.once('close', (_code, signal) => resolve({ signal, out })),
  );
}

describe('supervisor fault points', () => {
  it('every point is named supervisor:…, once', () => {
    assert.ok(SUPERVISOR_FAULT_POINTS.every((p) => /^supervisor:(before|after):[a-z-]+$/.test(p)));
    assert.equal(new Set(SUPERVISOR_FAULT_POINTS).size, SUPERVISOR_FAULT_POINTS.length);
  });

  it('is inert without the variable and when it names another point', async () => {
    assert.deepEqual(await reach('supervisor:after:flip', undefined), { signal: null, out: 'survived' });
    assert.deepEqual(await reach('supervisor:after:flip', 'after:flip'), { signal: null, out: 'survived' });
  });

  it('SIGKILLs the process at the point it names', async () => {
    assert.deepEqual(await reach('supervisor:after:flip', 'supervisor:after:flip'), { signal: 'SIGKILL', out: '' });
  });
});
