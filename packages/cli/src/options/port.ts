import { InvalidArgumentError } from 'commander';

/** commander argument parser for a TCP port flag: an integer from 1 to 65535. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('expected a port number from 1 to 65535.');
  }
  return port;
}
