// docker-compose.yml cannot run here (no Docker engine): check it against the real CLI
// instead, so a renamed command or flag, a missing volume or a wrong port fails a test.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { parse } from 'yaml';
import { buildProgram, type CliContext } from '@swarm/cli';

interface Service {
  build?: unknown;
  image?: string;
  entrypoint?: string[];
  command?: string[];
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}

const compose = parse(await readFile(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const dockerfile = await readFile(new URL('../Dockerfile', import.meta.url), 'utf8');

/** The real `swarm` program, with each command's long flags. */
async function realFlags(): Promise<Map<string, Set<string>>> {
  const ctx = {
    env: {},
    version: '0',
    home: () => '',
    print() {},
    printJson() {},
    note() {},
    stdout: { write() {} },
    stderr: { write() {} },
  };
  const program: Command = await buildProgram(ctx as unknown as CliContext, { code: 0 });
  const globals = program.options.map((o) => o.long!).filter(Boolean);
  return new Map(
    program.commands.map((c) => [c.name(), new Set([...globals, ...c.options.map((o) => o.long!).filter(Boolean)])]),
  );
}

/** Every `swarm <command> --flag …` invocation in a service: its `command`, or each one in its shell script. */
function invocations(service: Service): string[][] {
  const cmd = service.command ?? [];
  if (service.entrypoint?.[0] !== '/bin/sh') return [cmd];
  return [...cmd.join(' ').matchAll(/swarm\.js\s+([^;|&]+)/g)].map((m) => m[1]!.trim().split(/\s+/));
}

const flags = await realFlags();

describe('docker-compose.yml', () => {
  const services = compose.services;

  it('describes the demo fleet: a one-shot PKI service, three workers and a master', () => {
    assert.deepEqual(Object.keys(services).sort(), ['master', 'pki', 'worker1', 'worker2', 'worker3']);
    assert.deepEqual(services.pki?.entrypoint, ['/bin/sh', '-c']);
    for (const w of ['worker1', 'worker2', 'worker3']) {
      assert.deepEqual(services[w]?.depends_on, { pki: { condition: 'service_completed_successfully' } });
    }
  });

  it('runs the image built by the Dockerfile, whose entrypoint is the swarm bin on an official Node image', () => {
    assert.match(dockerfile, /^FROM node:(22|24)[-\w.]*/m);
    assert.match(dockerfile, /RUN npm ci/);
    assert.match(dockerfile, /ENTRYPOINT \["node", "\/app\/packages\/cli\/bin\/swarm.js"\]/);
    for (const service of Object.values(services)) assert.equal(service.image, 'swarm:local');
  });

  it('uses only commands and flags the CLI really has', () => {
    let checked = 0;
    for (const [name, service] of Object.entries(services)) {
      for (const words of invocations(service)) {
        const [command, ...rest] = words;
        const known = flags.get(command!);
        assert.ok(known, `${name}: swarm has no command "${command}"`);
        for (const word of rest.filter((w) => w.startsWith('--'))) {
          assert.ok(known.has(word), `${name}: swarm ${command} has no flag ${word}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 20, `only ${checked} flags were checked: the parser missed invocations`);
  });

  it('gives each worker its own bundle from the certs volume, its own state volume, and the updater port', () => {
    for (const w of ['worker1', 'worker2', 'worker3']) {
      const s = services[w]!;
      const cmd = s.command!;
      assert.equal(cmd[0], 'updater');
      assert.equal(cmd[cmd.indexOf('--bundle') + 1], `/certs/${w}`);
      assert.equal(cmd[cmd.indexOf('--listen') + 1], '0.0.0.0:8766');
      assert.ok(cmd.includes('--self-dir'), `${w} runs without a self directory: it could never be upgraded`);
      assert.ok(s.volumes?.includes('./certs:/certs'));
      assert.ok(s.volumes?.includes(`${w}-data:/var/lib/swarm`));
      assert.ok(compose.volumes && `${w}-data` in compose.volumes, `${w}-data is not declared`);
      assert.ok(s.ports?.some((p) => p.endsWith(':8766')));
    }
  });

  it('enrolls each worker under the name the master reaches it by, and rolls out to all of them', () => {
    const script = services.pki!.command!.join(' ');
    assert.match(script, /swarm\.js init --home \/certs\/master/);
    assert.match(script, /for w in worker1 worker2 worker3/);
    assert.match(script, /enroll --home \/certs\/master --host \$\$w --address \$\$w --updater --out \/certs\/\$\$w/);
    const master = services.master!.command!;
    assert.deepEqual(master.slice(0, 1), ['update']);
    assert.ok(master.includes('--all'));
    assert.equal(master[master.indexOf('--home') + 1], '/certs/master');
  });
});
