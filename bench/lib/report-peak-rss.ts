/**
 * Loaded with `node --import <this file> …` by bench/run-memory.ts: when the process exits,
 * write its peak RSS (getrusage maxRSS, the whole life of the process) to stderr as
 * `PEAK RSS <kB>`, so a benchmark can read the peak of a CLI it does not control.
 */
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `PEAK RSS ${process.resourceUsage().maxRSS}\n`);
});
