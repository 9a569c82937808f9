/**
 * Benchmark 3, client: `scatterGather` of 100,000 prompts over 64 simulated agents
 * from one process (a `VLLMPool`, direct connections, concurrency 512) vs the load
 * generator's own ceiling (wrk against the same agents, same concurrency); CPU per
 * request and peak RSS; and the streaming form (`scatterGatherStream` over a
 * generator), whose peak RSS must stay flat from 10k to 100k prompts.
 *
 * Run alone: `node dist/bench/client.js [--prompts 100000] [--rounds 2] [--agents 64]`.
 * Method: the agents run in their own process pinned to CPU 1; the client under
 * test (a fresh child process per run, so VmHWM is that run's peak) and wrk take
 * turns on CPU 0.
 */
import { parseArgs } from 'node:util';
import { type AgentsProcess, startAgentsProcess } from './lib/agents.js';
import { benchScript, hasCommand, startChild, stopAllChildren } from './lib/child-process.js';
import { log, printTable, scratchDirectory, writeResults } from './lib/results.js';
import type { ScatterClientOptions, ScatterClientSummary } from './lib/scatter-client-child.js';
import { median, ratio, round } from './lib/stats.js';
import { runWrk, writeWrkScript } from './lib/wrk.js';

const { values } = parseArgs({
  options: {
    prompts: { type: 'string', default: '100000' },
    'small-prompts': { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '2' },
    agents: { type: 'string', default: '64' },
    concurrency: { type: 'string', default: '512' },
    'wrk-seconds': { type: 'string', default: '10' },
  },
});
const PROMPTS = Math.min(1_000_000, Math.max(1, Number(values.prompts)));
const SMALL_PROMPTS = Math.min(PROMPTS, Math.max(1, Number(values['small-prompts'])));
const ROUNDS = Math.min(10, Math.max(1, Number(values.rounds)));
const AGENT_COUNT = Math.min(512, Math.max(1, Number(values.agents)));
const CONCURRENCY = Math.min(4096, Math.max(1, Number(values.concurrency)));
const WRK_SECONDS = Math.min(60, Math.max(1, Number(values['wrk-seconds'])));
const WRK_THREADS = Math.min(4, AGENT_COUNT);
const CLIENT_CPUS = '0';
const AGENT_CPUS = '1';

async function runScatter(
  ports: number[],
  prompts: number,
  mode: 'array' | 'stream',
): Promise<ScatterClientSummary> {
  const options: ScatterClientOptions = {
    ports,
    prompts,
    mode,
    concurrency: CONCURRENCY,
    deadlineMs: 300_000,
  };
  const child = await startChild(
    process.execPath,
    [benchScript('lib/scatter-client-child.js'), JSON.stringify(options)],
    { name: `scatter-${mode}`, cpus: CLIENT_CPUS },
  );
  const done = await child.waitFor(/^SCATTER DONE (.+)$/, options.deadlineMs + 20_000);
  await child.stop();
  const summary = JSON.parse(done[1] as string) as ScatterClientSummary;
  if (summary.succeeded !== prompts) {
    throw new Error(
      `client: ${prompts - summary.succeeded} of ${prompts} calls failed (${summary.firstError})`,
    );
  }
  return summary;
}

/** Run the benchmark; returns the results object (also written to bench/results). */
export async function runClient(): Promise<Record<string, unknown>> {
  const directory = scratchDirectory('client');
  let agents: AgentsProcess | undefined;
  try {
    log(`starting ${AGENT_COUNT} agents (CPU ${AGENT_CPUS})`);
    agents = await startAgentsProcess(
      AGENT_COUNT,
      { latencyMs: 0, completionTokens: 8 },
      AGENT_CPUS,
    );
    const ports = [...agents.ports];
    const useWrk = hasCommand('wrk');
    if (!useWrk) console.log('client: wrk is not installed — the ceiling comparison is SKIPPED');
    const script = writeWrkScript(directory, 'spread', { ports });
    const wrk = () =>
      runWrk({
        url: `http://127.0.0.1:${ports[0]}`,
        script,
        threads: WRK_THREADS,
        connections: CONCURRENCY,
        durationSeconds: WRK_SECONDS,
        cpus: CLIENT_CPUS,
      });

    log('warm-up');
    await runScatter(ports, 5_000, 'array');
    if (useWrk)
      await runWrk({
        url: `http://127.0.0.1:${ports[0]}`,
        script,
        threads: WRK_THREADS,
        connections: CONCURRENCY,
        durationSeconds: 2,
        cpus: CLIENT_CPUS,
      });

    const ours: ScatterClientSummary[] = [];
    const ceiling: number[] = [];
    for (let index = 0; index < ROUNDS; index++) {
      ours.push(await runScatter(ports, PROMPTS, 'array'));
      log(
        `round ${index + 1}/${ROUNDS} scatterGather: ${round(ours.at(-1)?.requestsPerSecond ?? NaN, 0)} req/s`,
      );
      if (useWrk) {
        const result = await wrk();
        if (result.errors > 0) console.log(`client: wrk saw ${result.errors} errors`);
        ceiling.push(result.requestsPerSecond);
        log(`round ${index + 1}/${ROUNDS} wrk: ${result.requestsPerSecond} req/s`);
      }
    }
    const streamSmall: ScatterClientSummary[] = [];
    const streamLarge: ScatterClientSummary[] = [];
    for (let index = 0; index < ROUNDS; index++) {
      streamSmall.push(await runScatter(ports, SMALL_PROMPTS, 'stream'));
      streamLarge.push(await runScatter(ports, PROMPTS, 'stream'));
      log(
        `round ${index + 1}/${ROUNDS} scatterGatherStream peak RSS: ${round(streamSmall.at(-1)?.peakRssMb ?? NaN, 1)} MB (${SMALL_PROMPTS}) vs ${round(streamLarge.at(-1)?.peakRssMb ?? NaN, 1)} MB (${PROMPTS})`,
      );
    }
    const oursRps = round(median(ours.map((run) => run.requestsPerSecond)), 0);
    const wrkRps = useWrk ? round(median(ceiling), 0) : null;
    const smallRss = round(median(streamSmall.map((run) => run.peakRssMb)), 1);
    const largeRss = round(median(streamLarge.map((run) => run.peakRssMb)), 1);
    const throughputRatio = wrkRps === null ? null : ratio(oursRps, wrkRps);
    const rssRatio = ratio(largeRss, smallRss);
    const results = {
      method: {
        prompts: PROMPTS,
        smallPrompts: SMALL_PROMPTS,
        agents: AGENT_COUNT,
        concurrency: CONCURRENCY,
        rounds: ROUNDS,
        wrk: `${WRK_THREADS} threads (thread t targets agent t), ${CONCURRENCY} connections, ${WRK_SECONDS} s, same chat body`,
        placement: `agents' process pinned to CPU ${AGENT_CPUS}; the client (fresh child per run) and wrk take turns on CPU ${CLIENT_CPUS}`,
        client:
          'VLLMPool (direct, model given, maxTokens 8) + scatterGather(prompts array) / scatterGatherStream(generator)',
      },
      scatterGather: {
        requestsPerSecond: oursRps,
        cpuUsPerRequest: round(median(ours.map((run) => run.cpuUsPerRequest)), 1),
        peakRssMb: round(median(ours.map((run) => run.peakRssMb)), 1),
        runs: ours,
      },
      wrk: { requestsPerSecond: wrkRps, runs: ceiling },
      throughputRatio,
      stream: {
        small: { prompts: SMALL_PROMPTS, peakRssMb: smallRss, runs: streamSmall },
        large: { prompts: PROMPTS, peakRssMb: largeRss, runs: streamLarge },
        rssRatio,
      },
      targets: {
        throughput: 'scatterGather >= 0.3 x wrk',
        throughputMet: throughputRatio === null ? null : throughputRatio >= 0.3,
        rss: `stream peak RSS(${PROMPTS}) <= 1.5 x peak RSS(${SMALL_PROMPTS})`,
        rssMet: rssRatio <= 1.5,
      },
    };
    const path = writeResults('client', results);
    console.log(
      `\nclient: ${PROMPTS} prompts over ${AGENT_COUNT} agents (medians of ${ROUNDS} rounds)`,
    );
    printTable([
      ['measure', 'ours', 'reference', 'ratio', 'target', 'met'],
      [
        'req/s',
        oursRps,
        wrkRps ?? 'skipped',
        throughputRatio ?? '-',
        '>= 0.3 x wrk',
        String(results.targets.throughputMet),
      ],
      ['client CPU us/request', results.scatterGather.cpuUsPerRequest, '', '', '', ''],
      ['scatterGather peak RSS MB', results.scatterGather.peakRssMb, '', '', '', ''],
      [
        `stream peak RSS MB ${PROMPTS} vs ${SMALL_PROMPTS}`,
        largeRss,
        smallRss,
        rssRatio,
        '<= 1.5',
        String(results.targets.rssMet),
      ],
    ]);
    console.log(`results: ${path}`);
    return results;
  } finally {
    await agents?.stop();
    await stopAllChildren();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runClient();
}
