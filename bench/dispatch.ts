/**
 * Dispatch over a swarm where some agents are 10× slower and some are dead: round-robin
 * vs least-loaded without hedging vs least-loaded (its default adaptive tail hedging) vs
 * least-loaded + a fixed `hedgeAfterMs`. Per run: wall time against a ceiling (every
 * prompt on the fast agents only), prompts answered per agent, failures, hedged calls, and
 * the agent time spent on calls that were aborted (GPU-seconds wasted on a real swarm).
 *
 * Two regimes, because least-loaded can only balance prompts that wait for an agent:
 * `window < work` (`--concurrency`, the usual long run) and `everything in flight at once`
 * (`--concurrency` ≥ prompts: every prompt is placed before the first answer).
 *
 * Agents are simulated (src/mock) in a child process: latency = delay before the answer
 * (`latencyMs`), no per-agent queue (`maxNumSeqs` 256), so a slow agent is slow per call,
 * not per queue position. A fresh pool per run (breakers and counts start clean), the
 * agents' counters reset between runs.
 *
 * node dist/bench/dispatch.js [--agents 8] [--slow 2] [--dead 1] [--latency-ms 50]
 *   [--slow-factor 10] [--prompts 400] [--concurrency 16] [--hedge-after-ms 150] [--rounds 2]
 *
 * One warm-up run (not recorded), then rounds of every regime × dispatch, interleaved;
 * medians of wall time, the other figures from the last round.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createEndpoint } from '../src/hostfile/agent-endpoint.js';
import { scatterGather } from '../src/patterns/scatter-gather.js';
import type { AgentResponse, DispatchPolicy } from '../src/pool/types.js';
import { VLLMPool } from '../src/pool/vllm-pool.js';
import { type AgentsStats, startAgentsProcess } from './lib/agents.js';
import { stopAllChildren } from './lib/child-process.js';
import { log, printTable, writeResults } from './lib/results.js';
import { median, round } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '8' },
    slow: { type: 'string', default: '2' },
    dead: { type: 'string', default: '1' },
    'latency-ms': { type: 'string', default: '50' },
    'slow-factor': { type: 'string', default: '10' },
    prompts: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '16' },
    'hedge-after-ms': { type: 'string', default: '150' },
    rounds: { type: 'string', default: '2' },
  },
});
const AGENTS = Number(values.agents);
const SLOW = Number(values.slow);
const DEAD = Number(values.dead);
const LATENCY_MS = Number(values['latency-ms']);
const SLOW_FACTOR = Number(values['slow-factor']);
const PROMPTS = Number(values.prompts);
const CONCURRENCY = Number(values.concurrency);
const HEDGE_AFTER_MS = Number(values['hedge-after-ms']);
const ROUNDS = Number(values.rounds);
const MODEL = 'meta-llama/Llama-3.1-70B-Instruct';

// Agents 0..SLOW-1 are slow, the last DEAD are dead, the rest are fast.
const slowAgents = Array.from({ length: SLOW }, (_, index) => index);
const deadAgents = Array.from({ length: DEAD }, (_, index) => AGENTS - 1 - index);
const fastAgents = AGENTS - SLOW - DEAD;
if (fastAgents < 1) throw new Error('need at least one fast agent');

interface Mode {
  name: string;
  dispatch: DispatchPolicy;
  /** undefined: the default (least-loaded: adaptive tail hedging); false: never. */
  hedgeAfterMs: number | false | undefined;
}
const MODES: Mode[] = [
  { name: 'round-robin', dispatch: 'round-robin', hedgeAfterMs: undefined },
  { name: 'least-loaded, no hedging', dispatch: 'least-loaded', hedgeAfterMs: false },
  { name: 'least-loaded (tail hedging)', dispatch: 'least-loaded', hedgeAfterMs: undefined },
  { name: 'least-loaded + hedging', dispatch: 'least-loaded', hedgeAfterMs: HEDGE_AFTER_MS },
];

interface RunResult {
  wallMs: number;
  succeeded: number;
  failed: number;
  failuresByKind: Record<string, number>;
  hedged: number;
  answeredPerAgent: number[];
  agentRequests: number[];
  abortedAtAgents: number;
  wastedAgentSeconds: number;
}

function loadAverage(): number[] {
  return os.loadavg().map((value) => round(value, 2));
}

const agents = await startAgentsProcess(
  AGENTS,
  { latencyMs: LATENCY_MS, model: MODEL },
  undefined,
  {
    perAgent: Array.from({ length: AGENTS }, (_, index) =>
      slowAgents.includes(index) ? { latencyMs: LATENCY_MS * SLOW_FACTOR } : null,
    ),
    stopped: deadAgents,
  },
);

async function runOnce(mode: Mode, concurrency: number): Promise<RunResult> {
  await agents.reset();
  const endpoints = agents.ports.map((port) => createEndpoint('127.0.0.1', port, {}));
  await using pool = new VLLMPool({
    endpoints,
    model: MODEL,
    modelMaxContext: 8192,
    concurrency,
    timeoutMs: 60_000,
  });
  const prompts = Array.from({ length: PROMPTS }, (_, index) => `question ${index}`);
  const startedAt = performance.now();
  const responses: AgentResponse[] = await scatterGather(pool, prompts, {
    dispatch: mode.dispatch,
    ...(mode.hedgeAfterMs === undefined ? {} : { hedgeAfterMs: mode.hedgeAfterMs }),
    maxTokens: 16,
  });
  const wallMs = performance.now() - startedAt;
  await pool.close();
  const stats: AgentsStats = await agents.stats();
  const answeredPerAgent = new Array<number>(AGENTS).fill(0);
  const failuresByKind: Record<string, number> = {};
  let hedged = 0;
  for (const response of responses) {
    if (response.hedged) hedged++;
    if (response.success) answeredPerAgent[response.globalIndex]!++;
    else {
      const kind = response.failureKind ?? 'unknown';
      failuresByKind[kind] = (failuresByKind[kind] ?? 0) + 1;
    }
  }
  const succeeded = responses.filter((response) => response.success).length;
  return {
    wallMs: round(wallMs, 1),
    succeeded,
    failed: responses.length - succeeded,
    failuresByKind,
    hedged,
    answeredPerAgent,
    agentRequests: stats.perAgent.map((agent) => agent.requests),
    abortedAtAgents: stats.aborted,
    wastedAgentSeconds: round(
      stats.perAgent.reduce((sum, agent) => sum + agent.abortedMs, 0) / 1000,
      2,
    ),
  };
}

/** Wall time if every prompt went to the fast agents only, `window` at a time. */
function ceilingMs(window: number): number {
  return Math.ceil(PROMPTS / window) * LATENCY_MS;
}

const regimes = [
  { name: `window ${CONCURRENCY} < ${PROMPTS} prompts`, concurrency: CONCURRENCY },
  { name: `all ${PROMPTS} prompts in flight at once`, concurrency: Math.max(512, PROMPTS) },
];
const loadBefore = loadAverage();
log(
  `${AGENTS} agents (${SLOW} ${SLOW_FACTOR}× slower, ${DEAD} dead, ${fastAgents} at ${LATENCY_MS} ms), ${PROMPTS} prompts, ${ROUNDS} round(s); load average ${loadBefore.join(' ')}`,
);
const results: Record<string, Record<string, RunResult[]>> = {};
try {
  // Warm-up: JIT, connections, the agents' child process.
  await runOnce(MODES[1] as Mode, CONCURRENCY);
  for (const regime of regimes) results[regime.name] = {};
  for (let roundNumber = 0; roundNumber < ROUNDS; roundNumber++) {
    for (const regime of regimes) {
      for (const mode of MODES) {
        const result = await runOnce(mode, regime.concurrency);
        const runs = results[regime.name] as Record<string, RunResult[]>;
        runs[mode.name] = [...(runs[mode.name] ?? []), result];
        log(
          `${regime.name}, ${mode.name}: ${result.wallMs} ms, ${result.succeeded}/${PROMPTS} ok, per agent ${result.answeredPerAgent.join('/')}, hedged ${result.hedged}, aborted at agents ${result.abortedAtAgents} (${result.wastedAgentSeconds} agent-s)`,
        );
      }
    }
  }
} finally {
  await agents.stop();
  await stopAllChildren();
}
const loadAfter = loadAverage();

const summary: Record<string, Record<string, unknown>> = {};
const rows: (string | number)[][] = [
  [
    'regime',
    'dispatch',
    'wall ms (median)',
    'ceiling ms',
    'ok',
    'slow agents answered',
    'failed',
    'hedged',
    'wasted agent-s',
  ],
];
for (const regime of regimes) {
  const byMode = results[regime.name] ?? {};
  summary[regime.name] = {};
  for (const mode of MODES) {
    const runs = byMode[mode.name] ?? [];
    const last = runs.at(-1) as RunResult;
    const wall = median(runs.map((run) => run.wallMs));
    const slowAnswered = slowAgents.reduce(
      (sum, index) => sum + (last.answeredPerAgent[index] ?? 0),
      0,
    );
    (summary[regime.name] as Record<string, unknown>)[mode.name] = {
      wallMsMedian: wall,
      ceilingMs: ceilingMs(regime.concurrency),
      slowAgentsShare: round(slowAnswered / PROMPTS, 3),
      runs,
    };
    rows.push([
      regime.name,
      mode.name,
      wall,
      ceilingMs(regime.concurrency),
      `${last.succeeded}/${PROMPTS}`,
      `${slowAnswered} (${round((100 * slowAnswered) / PROMPTS, 1)}%)`,
      Object.entries(last.failuresByKind)
        .map(([kind, count]) => `${count} ${kind}`)
        .join(', ') || '0',
      last.hedged,
      last.wastedAgentSeconds,
    ]);
  }
}
printTable(rows);
const path = writeResults('dispatch', {
  method: {
    agents: AGENTS,
    slowAgents,
    slowFactor: SLOW_FACTOR,
    deadAgents,
    latencyMs: LATENCY_MS,
    prompts: PROMPTS,
    regimes,
    hedgeAfterMs: HEDGE_AFTER_MS,
    rounds: ROUNDS,
    pool: 'VLLMPool direct, default breaker, maxTokens 16, a fresh pool per run',
    ceiling: 'ceil(prompts / window) × latency: every prompt on a fast agent',
    wasted: 'sum over agents of the time between a request arriving and its client aborting it',
  },
  loadAverage: { before: loadBefore, after: loadAfter },
  results: summary,
});
log(`load average after: ${loadAfter.join(' ')}; results in ${path}`);
