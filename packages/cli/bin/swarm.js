#!/usr/bin/env node
// The one place that exits the process: everything below throws or returns an exit code.
import { run } from '../dist/index.js';

process.exitCode = await run({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
