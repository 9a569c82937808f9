/**
 * Batch mode vs one request per prompt (issue 13 item 1, issue 16 item 4): requests sent and
 * client CPU per prompt of `scatterGather` over N prompts on M simulated agents, on a
 * `VLLMPool` with `batch: false` (one chat completion per prompt) and `batch: true` (each
 * agent's share as one `/v1/completions` prompt list), beside the ceiling: the same requests
 * from a bare undici loop (`request()`, the body read and parsed, nothing else), whose CPU per
 * prompt is the least JavaScript can spend on each way, and whose ratio is the most batching
 * can save.
 *
 * Run alone: `node dist/bench/batch-mode.js [--prompts 20000] [--agents 16] [--rounds 3]`.
 * Method (bench/README.md, "Batch mode"): the agents run in their own process pinned to CPU 1;
 * each client run is a fresh child pinned to CPU 0, the four ways interleaved round after round;
 * requests are the agents' own count; CPU is the child's `process.cpuUsage()` over the scatter.
 * Throughput is printed but not compared: the simulated agents generate the prompts one by one
 * and are the limit of both ways.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type AgentsProcess, startAgentsProcess } from './lib/agents.js';
import type {
  BatchClientMode,
  BatchClientOptions,
  BatchClientSummary,
} from './lib/batch-client-child.js';
import { benchScript, startChild, stopAllChildren } from './lib/child-process.js';
import { log, printTable, writeResults } from './lib/results.js';
import { median, ratio, round } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    prompts: { type: 'string', default: '20000' },
    agents: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '512' },
  },
});
const PROMPTS = Math.min(1_000_000, Math.max(1, Number(values.prompts)));
const AGENT_COUNT = Math.min(512, Math.max(1, Number(values.agents)));
const ROUNDS = Math.min(10, Math.max(1, Number(values.rounds)));
const CONCURRENCY = Math.min(4096, Math.max(1, Number(values.concurrency)));
const CLIENT_CPUS = '0';
const AGENT_CPUS = '1';
const MODEL = 'mock-model';
const MODES: readonly BatchClientMode[] = ['per-prompt', 'batch', 'bare-per-prompt', 'bare-batch'];

interface Run extends BatchClientSummary {
  /** Requests the agents received during the run. */
  requests: number;
}

async function runClient(agents: AgentsProcess, mode: BatchClientMode, prompts: number) {
  const options: BatchClientOptions = {
    ports: [...agents.ports],
    prompts,
    mode,
    concurrency: CONCURRENCY,
    model: MODEL,
    deadlineMs: 600_000,
  };
  const before = (await agents.stats()).requests;
  const child = await startChild(
    process.execPath,
    [benchScript('lib/batch-client-child.js'), JSON.stringify(options)],
    { name: `batch-client-${mode}`, cpus: CLIENT_CPUS },
  );
  const done = await child.waitFor(/^BATCH CLIENT DONE (.+)$/, options.deadlineMs + 20_000);
  await child.stop();
  const summary = JSON.parse(done[1] as string) as BatchClientSummary;
  if (summary.succeeded !== prompts) {
    throw new Error(
      `${mode}: ${prompts - summary.succeeded} of ${prompts} prompts failed (${summary.firstError})`,
    );
  }
  const requests = (await agents.stats()).requests - before;
  return { ...summary, requests } satisfies Run;
}

/** Run the benchmark; returns the results object (also written to bench/results). */
export async function runBatchMode(): Promise<Record<string, unknown>> {
  const loadBefore = os.loadavg();
  let agents: AgentsProcess | undefined;
  try {
    log(`starting ${AGENT_COUNT} agents (CPU ${AGENT_CPUS})`);
    agents = await startAgentsProcess(
      AGENT_COUNT,
      { model: MODEL, latencyMs: 0, completionTokens: 8 },
      AGENT_CPUS,
    );
    log('warm-up');
    for (const mode of MODES) await runClient(agents, mode, Math.min(PROMPTS, 2_000));
    const runs = new Map<BatchClientMode, Run[]>(MODES.map((mode) => [mode, []]));
    for (let index = 0; index < ROUNDS; index++) {
      for (const mode of MODES) {
        const run = await runClient(agents, mode, PROMPTS);
        runs.get(mode)!.push(run);
        log(
          `round ${index + 1}/${ROUNDS} ${mode}: ${run.requests} requests, ${round(run.cpuUsPerPrompt, 1)} µs CPU/prompt, ${round(run.promptsPerSecond, 0)} prompts/s`,
        );
      }
    }
    const summary = (mode: BatchClientMode) => {
      const modeRuns = runs.get(mode)!;
      return {
        requests: median(modeRuns.map((run) => run.requests)),
        requestsPerPrompt: round(median(modeRuns.map((run) => run.requests)) / PROMPTS, 4),
        cpuUsPerPrompt: round(median(modeRuns.map((run) => run.cpuUsPerPrompt)), 2),
        promptsPerSecond: round(median(modeRuns.map((run) => run.promptsPerSecond)), 0),
        runs: modeRuns,
      };
    };
    const perPrompt = summary('per-prompt');
    const batch = summary('batch');
    const barePerPrompt = summary('bare-per-prompt');
    const bareBatch = summary('bare-batch');
    const cpuRatio = ratio(perPrompt.cpuUsPerPrompt, batch.cpuUsPerPrompt);
    const ceilingRatio = ratio(barePerPrompt.cpuUsPerPrompt, bareBatch.cpuUsPerPrompt);
    const loadAfter = os.loadavg();
    const results = {
      method: {
        prompts: PROMPTS,
        agents: AGENT_COUNT,
        concurrency: CONCURRENCY,
        rounds: ROUNDS,
        agentsBehavior: `model ${MODEL}, latency 0, 8 completion tokens`,
        placement: `agents' process pinned to CPU ${AGENT_CPUS}; each client run a fresh child pinned to CPU ${CLIENT_CPUS}; the four ways interleaved`,
        client:
          'VLLMPool (direct, model and context given, maxTokens 8) + scatterGather(prompts array), batch: false vs batch: true; ceiling: a bare undici Agent.request() loop sending the same requests, bodies read and JSON-parsed',
        cpu: 'process.cpuUsage() of the client child over the scatter (pool construction and close included), divided by the prompts',
        requests:
          "the agents' own request count over the run (the /v1/models lookup is not sent: model and context are given)",
      },
      loadAverage: {
        before: loadBefore.map((load) => round(load, 2)),
        after: loadAfter.map((load) => round(load, 2)),
      },
      perPrompt,
      batch,
      ceiling: { perPrompt: barePerPrompt, batch: bareBatch, cpuRatio: ceilingRatio },
      cpuRatio,
      targets: {
        cpu: 'batch-mode client CPU per prompt at least 5x lower than one request per prompt',
        cpuMet: cpuRatio >= 5,
      },
    };
    const path = writeResults('batch-mode', results);
    console.log(
      `\nbatch-mode: ${PROMPTS} prompts over ${AGENT_COUNT} agents (medians of ${ROUNDS} rounds), load average ${loadBefore.map((load) => load.toFixed(2)).join(' ')} → ${loadAfter.map((load) => load.toFixed(2)).join(' ')}`,
    );
    printTable([
      ['way', 'requests', 'requests/prompt', 'client CPU µs/prompt', 'prompts/s (agents-bound)'],
      [
        'scatterGather, batch: false',
        perPrompt.requests,
        perPrompt.requestsPerPrompt,
        perPrompt.cpuUsPerPrompt,
        perPrompt.promptsPerSecond,
      ],
      [
        'scatterGather, batch: true',
        batch.requests,
        batch.requestsPerPrompt,
        batch.cpuUsPerPrompt,
        batch.promptsPerSecond,
      ],
      [
        'ceiling: bare undici, per prompt',
        barePerPrompt.requests,
        barePerPrompt.requestsPerPrompt,
        barePerPrompt.cpuUsPerPrompt,
        barePerPrompt.promptsPerSecond,
      ],
      [
        'ceiling: bare undici, prompt lists',
        bareBatch.requests,
        bareBatch.requestsPerPrompt,
        bareBatch.cpuUsPerPrompt,
        bareBatch.promptsPerSecond,
      ],
    ]);
    console.log(
      `CPU per prompt, batch: false / batch: true = ${cpuRatio}× (target ≥ 5×: ${cpuRatio >= 5 ? 'met' : 'NOT met'}); ceiling (bare loops) ${ceilingRatio}×`,
    );
    console.log(`results: ${path}`);
    return results;
  } finally {
    await agents?.stop();
    await stopAllChildren();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runBatchMode();
}
