// The master side of single-host pushes: a long-lived process (forked, commands over IPC) that
// runs the master's own per-host step, updateHost (GET /health, then POST /update; or POST /stage),
// activateHost (GET /health, then POST /activate) or rollbackHost, and times it from the call to the committed answer. Long-lived so that what is
// timed is the push, not Node's start-up (the fleet runs time the whole CLI instead).
import { readFileSync } from 'node:fs';
import { createUpdaterClient } from '@swarm/updater-client';
import { activateHost, rollbackHost, updateHost } from '@swarm/master';

const { files } = JSON.parse(process.env.BENCH_MASTER);
const identity = {
  caPem: readFileSync(files.ca, 'utf8'),
  certPem: readFileSync(files.cert, 'utf8'),
  keyPem: readFileSync(files.key, 'utf8'),
};
const client = createUpdaterClient(identity);
const signal = new AbortController().signal;

process.on('message', async (m) => {
  const ctx = { client, target: m.target, signal, onPhase: () => {}, onProgress: () => {} };
  const began = performance.now();
  try {
    const result =
      m.cmd === 'rollback'
        ? await rollbackHost(ctx)
        : m.cmd === 'activate'
          ? await activateHost(ctx, m.release)
          : await updateHost(ctx, { release: m.release, self: null, force: false, stageOnly: m.cmd === 'stage' });
    process.send({ id: m.id, ok: true, ms: performance.now() - began, result });
  } catch (err) {
    process.send({ id: m.id, ok: false, error: String(err?.stack ?? err) });
  }
});
process.on('disconnect', () => void client.close().finally(() => process.exit(0)));
process.send({ ready: true });
