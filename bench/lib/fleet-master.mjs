// `swarm --home H update --all --tarball F --concurrency N --canary N --json` for the benchmark
// until the CLI has that command: the same engine calls as packages/cli/src/commands/update.ts
// (openHome, prepareRelease, createUpdaterClient, runRollout), the same JSON on stdout.
import { createUpdaterClient } from '@swarm/updater-client';
import { openHome, prepareRelease, runRollout } from '@swarm/master';

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  if (i === -1 || i + 1 >= argv.length) throw new Error(`fleet-master: ${name} is required`);
  return argv[i + 1];
};
const home = await openHome(opt('--home'));
const release = await prepareRelease({ tarball: opt('--tarball') });
const client = createUpdaterClient(home.master);
try {
  const result = await runRollout({
    kind: 'update',
    hosts: home.registry.listHosts(),
    registry: home.registry,
    client,
    release,
    self: null,
    force: false,
    policy: { concurrency: Number(opt('--concurrency')), canary: Number(opt('--canary')), maxFailures: 0 },
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (result.results.some((r) => r.outcome !== 'updated' && r.outcome !== 'up_to_date')) process.exitCode = 1;
} finally {
  await client.close();
  await release.dispose();
  home.close();
}
