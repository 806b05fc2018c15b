import { resolve } from 'node:path';
import { Option } from 'commander';
import { createLogger } from '@swarm/log';
import { readWorkerBundle } from '@swarm/pki';
import { runSupervisor } from '@swarm/supervisor';
import { CONFIG_FILE_OPTION, parseUpdaterConfig, runUpdater, updaterArgv, updaterConfigKeys, type ConfigKey } from '@swarm/updater';
import type { RegisterCommand } from '../program.js';
import { seedSelfDir } from '../self/seed-self-dir.js';
import { systemdUnit } from '../self/systemd-unit.js';

/** How each kind of setting is written, in `--help`. */
const PLACEHOLDERS: Readonly<Record<ConfigKey['type'], string>> = {
  integer: 'n',
  listen: 'host:port',
  path: 'dir',
  duration: 'duration',
  hosts: 'host[:port],…',
};
import { registerUpdaterState } from './updater-state.js';

/**
 * `swarm updater`: the worker daemon. With `--self-dir` it starts the supervisor, which runs
 * the updater from the self directory (and can so upgrade it: POST /update-self); without,
 * the updater runs in this process and cannot update itself.
 */
export const registerUpdater: RegisterCommand = (program, ctx, exit) => {
  const command = program
    .command('updater')
    .summary('run the worker daemon (supervisor + updater) that receives releases')
    .description(
      "Run the updater on a worker: an HTTPS server with mutual TLS (the bundle's CA and updater certificate)\n" +
        'that receives releases from the master, verifies, stages and activates them, supervises the agent,\n' +
        'probes it and rolls back by itself. With --self-dir a supervisor runs the updater from that directory\n' +
        'so the master can upgrade it (POST /update-self) and it falls back by itself if the new one fails.\n' +
        'Every setting is also read from its SWARM_* environment variable and from --config FILE (JSON).',
    );
  for (const key of updaterConfigKeys) {
    command.addOption(
      new Option(
        `${key.flag} <${key.type === 'path' && !/Dir$|^bundle$/.test(key.key) ? 'file' : PLACEHOLDERS[key.type]}>`,
        `${key.description} [${key.env}; default ${key.defaultText}]`,
      ),
    );
  }
  command
    .addOption(
      new Option(
        `${CONFIG_FILE_OPTION.flag} <file>`,
        `JSON file of settings, keyed like the flags in camelCase [${CONFIG_FILE_OPTION.env}]`,
      ),
    )
    .option('--print-systemd-unit', 'print a systemd unit that runs this command, and exit', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm updater --bundle /etc/swarm/bundle --install-dir /var/lib/swarm/app --self-dir /var/lib/swarm/updater
  $ SWARM_MAX_UPLOAD_BYTES=2147483648 swarm updater --bundle ./bundle --install-dir ./app --listen 127.0.0.1:8766
  $ swarm updater --bundle /etc/swarm/bundle --install-dir /var/lib/swarm/app --self-dir /var/lib/swarm/updater \\
      --print-systemd-unit > /etc/systemd/system/swarm-updater.service`,
    )
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const flags: Record<string, string> = {};
      for (const key of [...updaterConfigKeys.map((k) => k.key), 'config']) {
        const value = opts[key];
        if (typeof value === 'string') flags[key] = value;
      }
      if (opts.printSystemdUnit) {
        const paths = {
          bundle: '/etc/swarm/bundle',
          installDir: '/var/lib/swarm/app',
          selfDir: '/var/lib/swarm/updater',
        };
        const pathKeys = new Set<string>(updaterConfigKeys.filter((k) => k.type === 'path').map((k) => k.key));
        const absolute = Object.fromEntries(
          Object.entries({ ...paths, ...flags }).map(([k, v]) => [
            k,
            pathKeys.has(k) || k === 'config' ? resolve(v) : v,
          ]),
        );
        ctx.print(
          systemdUnit({
            node: process.execPath,
            swarm: resolve(process.argv[1] ?? 'swarm'),
            args: updaterArgv(absolute),
          }).trimEnd(),
        );
        return;
      }
      const config = parseUpdaterConfig({ flags, env: ctx.env });
      if (!config.selfDir) {
        await runUpdater(config);
        return;
      }
      const log = createLogger({ name: 'supervisor' });
      const seed = await seedSelfDir(config.selfDir);
      if (seed.seeded)
        log.info(
          { selfDir: config.selfDir, release: seed.id },
          "self directory seeded with this installation's updater",
        );
      const bundle = await readWorkerBundle(config.bundle, { requireUpdater: true });
      const listenHost = config.listen?.host;
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        await runSupervisor({
          selfDir: config.selfDir,
          // Absolute paths: each updater runs from its own release directory.
          updaterArgs: updaterArgv({
            ...updaterFlags(flags),
            bundle: config.bundle,
            installDir: config.installDir,
            selfDir: config.selfDir,
          }),
          env: { ...ctx.env },
          health: {
            host: !listenHost || listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost,
            port: config.listen?.port ?? bundle.host.updaterPort,
            caPem: bundle.caPem,
            certPem: bundle.updater!.certPem,
            keyPem: bundle.updater!.keyPem,
          },
          stopGraceMs: config.stopTimeoutMs,
          switchDeadlineMs: config.selfUpdateDeadlineMs,
          log,
          signal: stop.signal,
        });
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
  registerUpdaterState(command, ctx, exit);
};

/**
 * The flags an updater process needs: all but the supervisor's own. An updater release
 * older than this CLI would not know them (it ignores unknown flags, but need not see them).
 */
function updaterFlags(flags: Record<string, string>): Record<string, string> {
  const { selfUpdateDeadlineMs: _supervisorOnly, ...rest } = flags;
  return rest;
}
