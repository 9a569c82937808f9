#!/usr/bin/env node
import { processIo } from './cli-io.js';
import { runAuroraSwarmProxy } from './program.js';

runAuroraSwarmProxy(process.argv.slice(2), processIo()).then(
  (exitCode) => process.exit(exitCode),
  (error: unknown) => {
    process.stderr.write(`aurora-swarm-proxy: unexpected error: ${String(error)}\n`);
    process.exit(1);
  },
);
