import { spawn } from 'node:child_process';
import { OutputTail } from '../process/output-tail.js';
import { signalGroup } from '../process/process-group.js';
import type { CheckResult, HealthCheck } from './check-result.js';

/**
 * Run `argv` like `start` (same directory and environment): healthy when it exits 0 in time.
 * It runs in its own process group, killed whole when it overruns.
 */
export function execCheck(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): HealthCheck {
  return (timeoutMs, signal) =>
    new Promise<CheckResult>((resolve) => {
      const [command, ...args] = argv;
      const tail = new OutputTail(512);
      const child = spawn(command!, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const kill = () => {
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      };
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
      signal.addEventListener('abort', kill, { once: true });
      child.stdout.on('data', (c: Buffer) => tail.push(c));
      child.stderr.on('data', (c: Buffer) => tail.push(c));
      const finish = (result: CheckResult) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', kill);
        resolve(result);
      };
      child.once('error', (err) => finish({ ok: false, detail: `${argv.join(' ')}: ${err.message}` }));
      child.once('close', (code, sig) => {
        const output = tail.toString().trim();
        if (code === 0) finish({ ok: true, detail: `${argv.join(' ')} exited 0` });
        else {
          const how = timedOut
            ? `did not finish within ${timeoutMs} ms`
            : sig
              ? `was killed (${sig})`
              : `exited ${code}`;
          finish({ ok: false, detail: `${argv.join(' ')} ${how}${output ? `: ${output}` : ''}` });
        }
      });
    });
}
