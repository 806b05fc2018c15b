import { Option, type Command } from 'commander';
import type { RegistryAccess } from '@swarm/master';
import type { CliContext } from '../context.js';
import { parseDuration } from './gate-options.js';

/** What the registry options give. */
export interface RegistryFlags {
  registryAuth?: string;
  registryCa?: string;
  registryPlainHttp?: string[];
  registryTimeout?: number;
}

/** `--registry-auth`, `--registry-ca`, `--registry-plain-http`, `--registry-timeout`: publish and update --from. */
export function addRegistryOptions(command: Command): Command {
  return command
    .option('--registry-auth <file>', 'Docker config.json with registry logins (auths.<host>.auth) [SWARM_REGISTRY_AUTH]')
    .option('--registry-ca <file>', 'PEM CA certificates trusted for registries besides the system CAs')
    .addOption(
      new Option(
        '--registry-plain-http <host[:port]>',
        'speak plain HTTP to this registry (repeatable; never implied)',
      ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value.toLowerCase()]),
    )
    .addOption(
      new Option('--registry-timeout <duration>', 'deadline of one registry call, retries included (default 15m)').argParser(
        parseDuration('--registry-timeout'),
      ),
    );
}

/** The registry access of the flags, `SWARM_REGISTRY_AUTH` when `--registry-auth` is not given. */
export function registryAccess(flags: RegistryFlags, ctx: CliContext): RegistryAccess {
  const auth = flags.registryAuth ?? (ctx.env.SWARM_REGISTRY_AUTH || undefined);
  return {
    auth,
    ca: flags.registryCa,
    plainHttp: flags.registryPlainHttp ?? [],
    timeoutMs: flags.registryTimeout,
  };
}
