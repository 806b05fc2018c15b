import { connect } from 'node:net';
import type { CheckResult, HealthCheck } from './check-result.js';

/** Healthy when a TCP connection to `host:port` is accepted. */
export function tcpCheck(host: string, port: number): HealthCheck {
  return (timeoutMs, signal) =>
    new Promise<CheckResult>((resolve) => {
      const socket = connect({ host, port, signal });
      const done = (result: CheckResult) => {
        socket.destroy();
        resolve(result);
      };
      socket.setTimeout(timeoutMs, () =>
        done({ ok: false, detail: `tcp ${host}:${port}: no answer within ${timeoutMs} ms` }),
      );
      socket.once('connect', () => done({ ok: true, detail: `tcp ${host}:${port} accepted` }));
      socket.once('error', (err) => done({ ok: false, detail: `tcp ${host}:${port}: ${err.message}` }));
    });
}
