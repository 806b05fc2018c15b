import { Option } from 'commander';
import { DEFAULT_AGENT_PORT, DEFAULT_UPDATER_PORT, enrollHost } from '@swarm/master';
import { parsePort } from '../options/port.js';
import { hostJson } from '../output/host-json.js';
import type { RegisterCommand } from '../program.js';

interface EnrollOptions {
  host: string;
  address: string;
  updater: boolean;
  out?: string;
  agentPort: number;
  updaterPort: number;
  json: boolean;
}

/** `swarm enroll`: issue a host's certificates, record its pins, write its worker bundle. */
export const registerEnroll: RegisterCommand = (program, ctx) => {
  program
    .command('enroll')
    .summary("issue a host's certificates, record it and its pins, write its worker bundle")
    .description(
      'Enroll a worker host: issue its agent certificate (and with --updater its updater certificate),\n' +
        'record the host and the SHA-256 pins of its certificates, and write the worker bundle\n' +
        '(ca.crt, host.json, agent.crt/.key, updater.crt/.key; keys 0600, directory 0700).\n' +
        'Copy the bundle to the worker. Without --updater the master cannot push to the host.',
    )
    .requiredOption('--host <name>', 'host name: lowercase letters, digits and inner hyphens, at most 63')
    .requiredOption('--address <addr>', 'DNS name or IP address the master reaches the host at')
    .option('--updater', "also issue the updater's certificate and pin it (needed to push releases)", false)
    .option('--out <dir>', 'where to write the worker bundle (default: <home>/bundles/<name>)')
    .addOption(
      new Option('--agent-port <port>', "the agent's port on the host")
        .argParser(parsePort)
        .default(DEFAULT_AGENT_PORT),
    )
    .addOption(
      new Option('--updater-port <port>', "the updater's port on the host")
        .argParser(parsePort)
        .default(DEFAULT_UPDATER_PORT),
    )
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm enroll --host web-1 --address 10.0.0.11 --updater
  $ swarm enroll --host web-2 --address web-2.prod.example.com --updater --out /media/usb/web-2
  $ swarm enroll --host db-1 --address 10.0.0.21 --agent-port 9443 --json

Then on the worker:
  $ swarm updater --bundle /etc/swarm/bundle --install-dir /srv/app`,
    )
    .action(async (opts: EnrollOptions, command) => {
      const result = await enrollHost({
        home: ctx.home(command),
        name: opts.host,
        address: opts.address,
        updater: opts.updater,
        ...(opts.out !== undefined ? { out: opts.out } : {}),
        agentPort: opts.agentPort,
        updaterPort: opts.updaterPort,
      });
      const { host } = result;
      if (opts.json) {
        ctx.printJson({ ...hostJson(host), bundle: result.bundleDir, files: result.files });
        return;
      }
      ctx.print(
        `enrolled ${host.name} at ${host.address} (agent port ${host.agentPort}, updater port ${host.updaterPort})`,
      );
      ctx.print(`agent pin     ${host.agentFingerprint}`);
      ctx.print(
        `updater pin   ${host.updaterFingerprint ?? 'none: enrolled without --updater, so swarm will not push to it'}`,
      );
      ctx.print(`bundle        ${result.bundleDir}`);
      ctx.note(
        `next: copy ${result.bundleDir} to the worker (it holds private keys: keep it 0700), then delete it here; ` +
          `on the worker run: swarm updater --bundle DIR --install-dir DIR`,
      );
    });
};
