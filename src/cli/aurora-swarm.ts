#!/usr/bin/env node
import { processIo } from './cli-io.js';
import { runAuroraSwarm } from './program.js';

runAuroraSwarm(process.argv.slice(2), processIo()).then(
  (exitCode) => process.exit(exitCode),
  (error: unknown) => {
    process.stderr.write(`aurora-swarm: unexpected error: ${String(error)}\n`);
    process.exit(1);
  },
);
