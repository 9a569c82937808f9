/**
 * Benchmark 3, client (issue 16 items 1, 4, 5): `scatterGather` against the JavaScript
 * ceiling, on agents that are not the limit.
 *
 * - **Agents**: static nginx agents (bench/lib/static-agents.ts: one nginx worker, N ports,
 *   a fixed vLLM chat completion), pinned to CPU 1. Their ceiling — wrk straight at them, 512
 *   connections — is measured in every round and printed beside every figure.
 * - **Throughput**: `scatterGather(pool, prompts)` (array, 100,000 prompts, concurrency 512) vs
 *   the bare undici loop (the same prompts and concurrency, each worker doing nothing but
 *   `JSON.stringify` + `request()` + `body.json()`), each run a fresh child pinned to CPU 0,
 *   interleaved (the order swapped every round), medians. CPU per request beside req/s.
 * - **Memory**: peak RSS (getrusage) of `scatterGather` over 20,000 prompts (array form,
 *   results held) vs the Python original's `scatter_gather` (VLLMPool, one chat completion per
 *   prompt, aiohttp) on the same agents in the same run, when python3 with aiohttp and a
 *   checkout of the original are there (`--python-original DIR`, default /tmp/aurora-py);
 *   otherwise the last recorded Python figure is printed with its date. Node's baseline (the
 *   pool built, nothing sent) and the bare loop's peak are printed beside.
 * - **Streaming**: `scatterGatherStream` over a generator, peak RSS at 10k vs 100k prompts.
 *
 * Run alone: `node dist/bench/client.js [--prompts 100000] [--rounds 3] [--agents 16]
 * [--memory-prompts 20000] [--python-original DIR] [--python python3] [--profile DIR]
 * [--parts throughput,memory,stream]`.
 * `--profile DIR` adds one `--cpu-prof` run of each client (ours, bare) written to DIR.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchScript, hasCommand, startChild, stopAllChildren } from './lib/child-process.js';
import {
  log,
  printTable,
  RESULTS_DIRECTORY,
  scratchDirectory,
  writeResults,
} from './lib/results.js';
import type {
  ScatterClientMode,
  ScatterClientOptions,
  ScatterClientSummary,
} from './lib/scatter-client-child.js';
import {
  STATIC_MODEL,
  type StaticAgents,
  startStaticAgents,
  staticAgentsAvailable,
} from './lib/static-agents.js';
import { median, ratio, round } from './lib/stats.js';
import { runWrk, writeWrkScript } from './lib/wrk.js';

const { values } = parseArgs({
  options: {
    prompts: { type: 'string', default: '100000' },
    'memory-prompts': { type: 'string', default: '20000' },
    'small-prompts': { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    agents: { type: 'string', default: '16' },
    concurrency: { type: 'string', default: '512' },
    'wrk-seconds': { type: 'string', default: '5' },
    'python-original': { type: 'string', default: '/tmp/aurora-py' },
    python: { type: 'string' },
    profile: { type: 'string' },
    parts: { type: 'string', default: 'throughput,memory,stream' },
  },
});
const PROMPTS = Math.min(1_000_000, Math.max(1, Number(values.prompts)));
const MEMORY_PROMPTS = Math.min(1_000_000, Math.max(1, Number(values['memory-prompts'])));
const SMALL_PROMPTS = Math.min(PROMPTS, Math.max(1, Number(values['small-prompts'])));
const ROUNDS = Math.min(20, Math.max(1, Number(values.rounds)));
const AGENT_COUNT = Math.min(512, Math.max(1, Number(values.agents)));
const CONCURRENCY = Math.min(4096, Math.max(1, Number(values.concurrency)));
const WRK_SECONDS = Math.min(60, Math.max(1, Number(values['wrk-seconds'])));
const WRK_THREADS = 2;
const PARTS = new Set((values.parts as string).split(','));
const CLIENT_CPUS = '0';
const AGENT_CPUS = '1';
const PYTHON_SCRIPT = new URL('../../bench/lib/python-scatter.py', import.meta.url).pathname;
/**
 * The last Python figure recorded on this machine, printed when the original cannot run here.
 * Updated by hand from bench/results/client.json after a run that measured it.
 */
const PYTHON_LAST_RECORDED = {
  date: '2026-12-01',
  peakRssMb: 75.1,
  note: 'python 3.11.2, aiohttp 3.8.4, openai stubbed; issue 16 reported 116 MB',
};

interface PythonSummary {
  prompts: number;
  succeeded: number;
  elapsedMs: number;
  requestsPerSecond: number;
  cpuUsPerRequest: number;
  peakRssMb: number;
  python: string;
  aiohttp: string;
  openaiStubbed: boolean;
  firstError?: string;
}

async function runClient(
  ports: readonly number[],
  mode: ScatterClientMode,
  prompts: number,
  nodeArgs: string[] = [],
): Promise<ScatterClientSummary> {
  const options: ScatterClientOptions = {
    ports: [...ports],
    prompts,
    mode,
    concurrency: CONCURRENCY,
    model: STATIC_MODEL,
    deadlineMs: 300_000,
  };
  const child = await startChild(
    process.execPath,
    [...nodeArgs, benchScript('lib/scatter-client-child.js'), JSON.stringify(options)],
    { name: `client-${mode}`, cpus: CLIENT_CPUS },
  );
  const done = await child.waitFor(/^SCATTER DONE (.+)$/, options.deadlineMs + 20_000);
  await child.exited;
  await child.stop();
  const summary = JSON.parse(done[1] as string) as ScatterClientSummary;
  if (summary.succeeded !== summary.prompts) {
    throw new Error(
      `client ${mode}: ${summary.prompts - summary.succeeded} of ${summary.prompts} calls failed (${summary.firstError})`,
    );
  }
  return summary;
}

/** A python3 that imports aiohttp, and the checkout of the original; or why not. */
function findPython(): { python: string; original: string } | { missing: string } {
  const original = resolve(values['python-original'] as string);
  if (!existsSync(join(original, 'aurora_swarm', 'vllm_pool.py'))) {
    return {
      missing: `no checkout of the Python original at ${original} (--python-original DIR: git archive of brettin/Aurora-Swarm main)`,
    };
  }
  const candidates =
    values.python === undefined ? ['python3', '/usr/bin/python3'] : [values.python];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import aiohttp'], { stdio: 'ignore' });
    if (probe.status === 0) return { python, original };
  }
  return { missing: `no python3 with aiohttp among ${candidates.join(', ')}` };
}

async function runPython(
  ports: readonly number[],
  found: { python: string; original: string },
  prompts: number,
): Promise<PythonSummary> {
  const options = { ports, prompts, concurrency: CONCURRENCY, model: STATIC_MODEL };
  const child = await startChild(
    found.python,
    [PYTHON_SCRIPT, found.original, JSON.stringify(options)],
    { name: 'python-original', cpus: CLIENT_CPUS },
  );
  const done = await child.waitFor(/^PYTHON DONE (.+)$/, 300_000);
  await child.exited;
  await child.stop();
  const summary = JSON.parse(done[1] as string) as PythonSummary;
  if (summary.succeeded !== prompts) {
    throw new Error(
      `python original: ${prompts - summary.succeeded} of ${prompts} failed (${summary.firstError})`,
    );
  }
  return summary;
}

function previousPythonFigure(): { date: string; peakRssMb: number; source: string } {
  try {
    const previous = JSON.parse(readFileSync(join(RESULTS_DIRECTORY, 'client.json'), 'utf8'));
    const measured = previous?.memory?.python;
    if (measured?.measured === true && typeof measured.peakRssMb === 'number') {
      return {
        date: String(previous.machine?.date ?? 'unknown date'),
        peakRssMb: measured.peakRssMb,
        source: 'bench/results/client.json',
      };
    }
  } catch {
    // No earlier results file: fall back to the figure recorded in this file.
  }
  return {
    date: PYTHON_LAST_RECORDED.date,
    peakRssMb: PYTHON_LAST_RECORDED.peakRssMb,
    source: `bench/client.ts (${PYTHON_LAST_RECORDED.note})`,
  };
}

function medianOf<Run>(runs: readonly Run[], key: keyof Run & string, digits = 1): number {
  return round(median(runs.map((run) => run[key] as number)), digits);
}

/** Run the benchmark; returns the results object (also written to bench/results). */
export async function runClientBenchmark(): Promise<Record<string, unknown>> {
  if (!staticAgentsAvailable()) {
    console.log('client: nginx is not installed (static agents) — SKIPPED');
    return { skipped: 'nginx not installed' };
  }
  const directory = scratchDirectory('client');
  const loadBefore = os.loadavg();
  let agents: StaticAgents | undefined;
  try {
    log(`starting ${AGENT_COUNT} static agents (one nginx worker, CPU ${AGENT_CPUS})`);
    agents = await startStaticAgents(join(directory, 'agents'), AGENT_COUNT, AGENT_CPUS);
    const ports = agents.ports;
    const useWrk = hasCommand('wrk');
    if (!useWrk) console.log('client: wrk is not installed — no ceiling of the agents, no ratio');
    const script = writeWrkScript(directory, 'spread', { ports });
    const wrk = (seconds: number) =>
      runWrk({
        url: `http://127.0.0.1:${ports[0]}`,
        script,
        threads: WRK_THREADS,
        connections: CONCURRENCY,
        durationSeconds: seconds,
        cpus: CLIENT_CPUS,
      });
    const python = findPython();
    if ('missing' in python) console.log(`client: Python original not run: ${python.missing}`);

    log('warm-up');
    await runClient(ports, 'array', 5_000);
    await runClient(ports, 'bare', 5_000);
    if (useWrk) await wrk(1);

    const ceiling: number[] = [];
    const ours: ScatterClientSummary[] = [];
    const bare: ScatterClientSummary[] = [];
    for (let index = 0; index < (PARTS.has('throughput') ? ROUNDS : 0); index++) {
      if (useWrk) {
        const result = await wrk(WRK_SECONDS);
        if (result.errors > 0) console.log(`client: wrk saw ${result.errors} errors`);
        ceiling.push(result.requestsPerSecond);
      }
      // Swap the order every round, so that drift on the shared machine hits both alike.
      const order: ScatterClientMode[] = index % 2 === 0 ? ['bare', 'array'] : ['array', 'bare'];
      for (const mode of order) {
        const run = await runClient(ports, mode, PROMPTS);
        (mode === 'bare' ? bare : ours).push(run);
      }
      log(
        `round ${index + 1}/${ROUNDS}: wrk ${ceiling.at(-1) ?? '-'} req/s, bare ${round(bare.at(-1)?.requestsPerSecond ?? NaN, 0)}, scatterGather ${round(ours.at(-1)?.requestsPerSecond ?? NaN, 0)} (${round((ours.at(-1)?.requestsPerSecond ?? NaN) / (bare.at(-1)?.requestsPerSecond ?? NaN), 3)}x)`,
      );
    }

    const memoryOurs: ScatterClientSummary[] = [];
    const memoryBare: ScatterClientSummary[] = [];
    const memoryIdle: ScatterClientSummary[] = [];
    const memoryPython: PythonSummary[] = [];
    for (let index = 0; index < (PARTS.has('memory') ? ROUNDS : 0); index++) {
      memoryOurs.push(await runClient(ports, 'array', MEMORY_PROMPTS));
      memoryBare.push(await runClient(ports, 'bare', MEMORY_PROMPTS));
      memoryIdle.push(await runClient(ports, 'idle', 0));
      if (!('missing' in python)) memoryPython.push(await runPython(ports, python, MEMORY_PROMPTS));
      log(
        `memory round ${index + 1}/${ROUNDS}: scatterGather ${round(memoryOurs.at(-1)?.peakRssMb ?? NaN, 1)} MB, bare ${round(memoryBare.at(-1)?.peakRssMb ?? NaN, 1)} MB, idle ${round(memoryIdle.at(-1)?.peakRssMb ?? NaN, 1)} MB, python ${memoryPython.length > 0 ? `${round(memoryPython.at(-1)?.peakRssMb ?? NaN, 1)} MB` : 'not run'}`,
      );
    }

    const streamSmall: ScatterClientSummary[] = [];
    const streamLarge: ScatterClientSummary[] = [];
    if (PARTS.has('stream')) {
      for (let index = 0; index < ROUNDS; index++) {
        streamSmall.push(await runClient(ports, 'stream', SMALL_PROMPTS));
        streamLarge.push(await runClient(ports, 'stream', PROMPTS));
      }
    }

    let profiles: string | undefined;
    if (values.profile !== undefined) {
      profiles = resolve(values.profile);
      mkdirSync(profiles, { recursive: true });
      for (const mode of ['array', 'bare'] as const) {
        await runClient(ports, mode, PROMPTS, [
          '--cpu-prof',
          '--cpu-prof-dir',
          profiles,
          '--cpu-prof-name',
          `client-${mode}.cpuprofile`,
        ]);
      }
      log(`profiles in ${profiles}`);
    }
    const loadAfter = os.loadavg();

    const wrkRps = useWrk ? round(median(ceiling), 0) : null;
    const oursRps = medianOf(ours, 'requestsPerSecond', 0);
    const bareRps = medianOf(bare, 'requestsPerSecond', 0);
    const perRound = ours.map((run, index) =>
      ratio(run.requestsPerSecond, bare[index]?.requestsPerSecond ?? NaN),
    );
    const throughputRatio = ratio(oursRps, bareRps);
    const oursCpu = medianOf(ours, 'cpuUsPerRequest');
    const bareCpu = medianOf(bare, 'cpuUsPerRequest');
    const pythonPeak = memoryPython.length > 0 ? medianOf(memoryPython, 'peakRssMb') : null;
    const pythonRecorded = pythonPeak === null ? previousPythonFigure() : undefined;
    const oursPeak = medianOf(memoryOurs, 'peakRssMb');
    const pythonReference = pythonPeak ?? pythonRecorded?.peakRssMb ?? NaN;
    const streamRatio =
      streamSmall.length > 0
        ? ratio(medianOf(streamLarge, 'peakRssMb'), medianOf(streamSmall, 'peakRssMb'))
        : null;
    const results = {
      method: {
        agents: `${AGENT_COUNT} static nginx agents (one worker, fixed ${STATIC_MODEL} chat completion), pinned to CPU ${AGENT_CPUS}`,
        prompts: PROMPTS,
        memoryPrompts: MEMORY_PROMPTS,
        concurrency: CONCURRENCY,
        rounds: ROUNDS,
        wrk: `${WRK_THREADS} threads, ${CONCURRENCY} connections, ${WRK_SECONDS} s, CPU ${CLIENT_CPUS}`,
        placement: `agents on CPU ${AGENT_CPUS}; every client run a fresh child pinned to CPU ${CLIENT_CPUS} (taskset), wrk too`,
        ours: 'VLLMPool (direct, model and context given, maxTokens 8, concurrency 512) + scatterGather(prompts array)',
        bare: 'one undici Agent, 512 workers: JSON.stringify(chat body) + agent.request() + body.json(), answers kept in an array',
        python:
          'the Python original: scatter_gather(VLLMPool(use_batch=False, max_tokens=8, model_max_context=8192, concurrency=512)) (aiohttp)',
        loadAverage: { before: loadBefore, after: loadAfter },
      },
      ceiling: { wrkRequestsPerSecond: wrkRps, runs: ceiling },
      throughput: {
        scatterGather: { requestsPerSecond: oursRps, cpuUsPerRequest: oursCpu, runs: ours },
        bare: { requestsPerSecond: bareRps, cpuUsPerRequest: bareCpu, runs: bare },
        ratio: throughputRatio,
        ratioPerRound: perRound,
        cpuRatio: ratio(bareCpu, oursCpu),
        agentsHeadroom: wrkRps === null ? null : ratio(wrkRps, bareRps),
      },
      memory: {
        prompts: MEMORY_PROMPTS,
        scatterGather: { peakRssMb: oursPeak, runs: memoryOurs },
        bare: { peakRssMb: medianOf(memoryBare, 'peakRssMb'), runs: memoryBare },
        nodeBaseline: { peakRssMb: medianOf(memoryIdle, 'peakRssMb'), runs: memoryIdle },
        python:
          pythonPeak === null
            ? { measured: false, why: (python as { missing: string }).missing, ...pythonRecorded }
            : {
                measured: true,
                peakRssMb: pythonPeak,
                requestsPerSecond: medianOf(memoryPython, 'requestsPerSecond', 0),
                runs: memoryPython,
              },
        ratio: ratio(oursPeak, pythonReference),
      },
      stream:
        streamRatio === null
          ? null
          : {
              small: {
                prompts: SMALL_PROMPTS,
                peakRssMb: medianOf(streamSmall, 'peakRssMb'),
                runs: streamSmall,
              },
              large: {
                prompts: PROMPTS,
                peakRssMb: medianOf(streamLarge, 'peakRssMb'),
                runs: streamLarge,
              },
              rssRatio: streamRatio,
            },
      profiles: profiles ?? null,
      targets: {
        throughput:
          'scatterGather >= 0.9 x bare undici loop (same run, same agents, same concurrency)',
        throughputMet: throughputRatio >= 0.9,
        memory: `scatterGather(${MEMORY_PROMPTS}) peak RSS <= the Python original's`,
        memoryMet: oursPeak <= pythonReference,
        stream: `stream peak RSS(${PROMPTS}) <= 1.5 x peak RSS(${SMALL_PROMPTS})`,
        streamMet: streamRatio === null ? null : streamRatio <= 1.5,
      },
    };
    const path = writeResults('client', results);
    console.log(
      `\nclient: ${AGENT_COUNT} static agents, concurrency ${CONCURRENCY}, medians of ${ROUNDS} rounds; agents' ceiling (wrk, C): ${wrkRps ?? 'not measured'} req/s`,
    );
    printTable([
      ['measure', 'ours', 'reference', 'ratio', 'ceiling', 'target', 'met'],
      [
        `req/s, ${PROMPTS} prompts`,
        oursRps,
        `bare undici ${bareRps}`,
        throughputRatio,
        `wrk ${wrkRps ?? '-'}`,
        '>= 0.9',
        String(results.targets.throughputMet),
      ],
      [
        'client CPU us/request',
        oursCpu,
        `bare undici ${bareCpu}`,
        ratio(oursCpu, bareCpu),
        '',
        '',
        '',
      ],
      [
        `peak RSS MB, ${MEMORY_PROMPTS} prompts`,
        oursPeak,
        pythonPeak === null
          ? `python ${pythonRecorded?.peakRssMb} (recorded ${pythonRecorded?.date})`
          : `python ${pythonPeak}`,
        results.memory.ratio,
        `node idle ${results.memory.nodeBaseline.peakRssMb}, bare ${results.memory.bare.peakRssMb}`,
        '<= 1',
        String(results.targets.memoryMet),
      ],
      ...(streamRatio === null
        ? []
        : [
            [
              `stream peak RSS MB ${PROMPTS} vs ${SMALL_PROMPTS}`,
              results.stream?.large.peakRssMb ?? '',
              results.stream?.small.peakRssMb ?? '',
              streamRatio,
              '',
              '<= 1.5',
              String(results.targets.streamMet),
            ],
          ]),
    ]);
    console.log(`results: ${path}`);
    return results;
  } finally {
    await agents?.stop();
    await stopAllChildren();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runClientBenchmark();
}
