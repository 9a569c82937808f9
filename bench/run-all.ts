/**
 * `npm run bench`: every benchmark in turn (proxy overhead, streams, client), each
 * writing bench/results/<name>.json, then one summary. Options of the single
 * benchmarks are not forwarded: run them alone to change their size.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchScript } from './lib/child-process.js';
import { machineInfo } from './lib/machine.js';
import { printTable, RESULTS_DIRECTORY } from './lib/results.js';

const BENCHMARKS = ['proxy-overhead', 'streams', 'client'] as const;
// Each benchmark bounds itself; this is the last resort if one hangs.
const BENCHMARK_TIMEOUT_MS = 15 * 60_000;

const machine = machineInfo();
console.log(
  `aurora-swarm benchmarks — ${machine.nproc} CPUs (${machine.cpuModel}), node ${machine.node}, nginx: ${machine.nginx ?? 'not installed'}, wrk: ${machine.wrk ?? 'not installed'}`,
);
const failed: string[] = [];
for (const name of BENCHMARKS) {
  console.log(`\n=== ${name} ===`);
  const child = spawn(process.execPath, [benchScript(`${name}.js`)], { stdio: 'inherit' });
  const timer = setTimeout(() => child.kill('SIGTERM'), BENCHMARK_TIMEOUT_MS);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  if (code !== 0) failed.push(name);
}

// biome-ignore lint/suspicious/noExplicitAny: results files written by this suite, read for a summary only
const read = (name: string): Record<string, any> | undefined => {
  try {
    return JSON.parse(readFileSync(join(RESULTS_DIRECTORY, `${name}.json`), 'utf8'));
  } catch {
    return undefined;
  }
};
const overhead = read('proxy-overhead');
const streams = read('streams');
const client = read('client');
console.log('\n=== summary (see bench/results/*.json) ===');
printTable([
  ['target', 'measured', 'met'],
  [
    'proxy req/s >= 0.5 x nginx (c=64, agents not the limit)',
    overhead?.throughput
      ? overhead.throughput.ratio === null
        ? `not reported: the load side is the limit (direct ${overhead.throughput.direct?.requestsPerSecond} req/s)`
        : `${overhead.throughput.ratio} (${overhead.throughput.ours?.requestsPerSecond} / ${overhead.throughput.nginx?.requestsPerSecond} req/s; ceiling direct ${overhead.throughput.direct?.requestsPerSecond})`
      : 'skipped',
    String(overhead?.throughput?.met ?? '-'),
  ],
  [
    'proxy CPU per request vs nginx',
    overhead?.throughput
      ? `${overhead.throughput.ours?.cpuUsPerRequest} vs ${overhead.throughput.nginx?.cpuUsPerRequest} µs`
      : '-',
    '-',
  ],
  [
    'proxy added p50 <= 0.1 ms (c=1)',
    overhead?.latency
      ? `+${overhead.latency.addedP50Ms} ms (nginx +${overhead.latency.oneCore?.nginxAddedP50Ms ?? overhead.latency.split?.nginxAddedP50Ms} ms)`
      : '-',
    String(overhead?.latency?.met ?? '-'),
  ],
  [
    `${streams?.method?.streams ?? 4000} streams all complete`,
    streams?.ours ? `${streams.ours.completed}/${streams.method.streams}` : '-',
    String(streams?.targets?.allComplete ?? '-'),
  ],
  [
    `steady stream lateness p99 <= direct + ${streams?.targets?.latenessP99WithinMsOfDirect ?? 50} ms`,
    streams
      ? `${streams.latenessP99DeltaMs >= 0 ? '+' : ''}${streams.latenessP99DeltaMs} ms (direct ${streams.direct?.steadyLatenessP99Ms} ms)`
      : '-',
    String(streams?.targets?.latenessMet ?? '-'),
  ],
  [
    `proxy RSS <= 300 MB (${streams?.method?.streams ?? 4000} streams)`,
    streams?.ours ? `${streams.ours.proxyPeakRssMb} MB` : '-',
    String(streams?.targets?.rssMet ?? '-'),
  ],
  [
    'scatterGather >= 0.9 x bare undici req/s',
    client?.throughput?.ratio ?? 'skipped',
    String(client?.targets?.throughputMet ?? '-'),
  ],
  [
    'scatterGather 20k peak RSS <= Python original',
    client?.memory?.ratio ?? '-',
    String(client?.targets?.memoryMet ?? '-'),
  ],
  [
    'stream peak RSS 100k <= 1.5 x 10k',
    client?.stream?.rssRatio ?? '-',
    String(client?.targets?.streamMet ?? '-'),
  ],
]);
if (failed.length > 0) {
  console.log(`\nfailed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
