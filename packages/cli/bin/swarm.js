#!/usr/bin/env node
// The one place that exits the process: everything below throws or returns an exit code.
import { run } from '../dist/index.js';

// `swarm hosts | head -1`: the reader is gone, nothing more can be printed. Stop quietly,
// with the status a shell gives a process killed by SIGPIPE, instead of an unhandled EPIPE.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(141);
});

process.exitCode = await run({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
