/**
 * Benchmark 2, streams: N concurrent SSE chat streams (default 4,000; up to 8,000),
 * each 10 tokens 500 ms apart, through our proxy vs straight to the agents (and
 * through nginx when installed): completion count, chunk lateness, time to first
 * byte, and the proxy's RSS and CPU read from /proc.
 *
 * Run alone: `node dist/bench/streams.js [--streams 4000] [--rounds 2] [--agents 64]`.
 * Method: agents, client and proxy are three processes; the proxy is pinned to
 * CPU 0, agents and client to CPU 1 in every round (direct rounds included), and a
 * fresh proxy is started for each proxied round so VmHWM is that round's peak.
 */
import { parseArgs } from 'node:util';
import { type AgentsProcess, startAgentsProcess } from './lib/agents.js';
import { benchScript, startChild, stopAllChildren } from './lib/child-process.js';
import { nginxAvailable, type RunningNginx, startNginx } from './lib/nginx.js';
import { listenOverflows, sampleProcess } from './lib/proc-stats.js';
import { type ProxyProcess, resultsName, startProxyProcess } from './lib/proxy-process.js';
import { log, printTable, scratchDirectory, writeResults } from './lib/results.js';
import { type SseAgentsProcess, startSseAgents } from './lib/sse-agents.js';
import { median, ratio, round } from './lib/stats.js';
import type { StreamClientOptions, StreamClientSummary } from './lib/stream-client-child.js';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '4000' },
    rounds: { type: 'string', default: '2' },
    agents: { type: 'string', default: '64' },
    tokens: { type: 'string', default: '10' },
    'interval-ms': { type: 'string', default: '500' },
    simulated: { type: 'boolean', default: false },
  },
});
const STREAMS = Math.min(8000, Math.max(1, Number(values.streams)));
const ROUNDS = Math.min(10, Math.max(1, Number(values.rounds)));
const AGENT_COUNT = Math.min(512, Math.max(1, Number(values.agents)));
const TOKENS = Math.min(100, Math.max(1, Number(values.tokens)));
const INTERVAL_MS = Math.min(5000, Math.max(0, Number(values['interval-ms'])));
const PROXY_CPUS = '0';
// The default --connector-limit (1024) would queue the streams beyond it, as designed,
// and the default --max-connections (4096) refuse client connections beyond it: a
// stream benchmark lets every stream through, like nginx and direct do (docs/proxy.md).
const CONNECTOR_LIMIT_ARGS = [
  '--connector-limit',
  String(Math.max(1024, STREAMS)),
  '--max-connections',
  String(Math.max(4096, STREAMS + 1024)),
];
const LOAD_CPUS = '1';
/** Issue 16: 4,000 streams within 50 ms of direct (lateness p99), 8,000 within 20 ms. */
const LATENESS_TARGET_MS = STREAMS >= 8000 ? 20 : 50;

interface RoundResult extends StreamClientSummary {
  /** SYNs the kernel dropped on full listen queues during the round (whole machine). */
  listenOverflows?: number;
  /** Peak RSS of the proxy during the round (VmHWM of a fresh process), MB. */
  proxyPeakRssMb?: number;
  /** Proxy CPU time during the round, ms, and as a share of one core. */
  proxyCpuMs?: number;
  proxyCpuShare?: number;
}

async function runClient(
  urls: string[],
  prefixAgents: number,
  streams: number,
  tokens: number,
  intervalMs: number,
): Promise<StreamClientSummary> {
  const options: StreamClientOptions = {
    urls,
    prefixAgents,
    streams,
    tokens,
    tokenIntervalMs: intervalMs,
    deadlineMs: tokens * intervalMs + 60_000,
    sourceAddresses: 16,
  };
  const child = await startChild(
    process.execPath,
    [benchScript('lib/stream-client-child.js'), JSON.stringify(options)],
    { name: 'stream-client', cpus: LOAD_CPUS },
  );
  const done = await child.waitFor(/^STREAMS DONE (.+)$/, options.deadlineMs + 10_000);
  await child.stop();
  return JSON.parse(done[1] as string) as StreamClientSummary;
}

/** Run a client round and read the CPU and peak RSS of `pids` around it. */
async function measuredRound(
  pids: () => number[],
  run: () => Promise<StreamClientSummary>,
): Promise<RoundResult> {
  const sample = () =>
    pids().reduce(
      (total, pid) => {
        try {
          const current = sampleProcess(pid);
          return {
            cpuMs: total.cpuMs + current.cpuMs,
            peakRssMb: total.peakRssMb + current.peakRssMb,
          };
        } catch {
          return total;
        }
      },
      { cpuMs: 0, peakRssMb: 0 },
    );
  const overflowsBefore = listenOverflows();
  if (pids().length === 0) {
    const summary = await run();
    return { ...summary, listenOverflows: listenOverflows() - overflowsBefore };
  }
  const before = sample();
  const startedAt = performance.now();
  const summary = await run();
  const after = sample();
  const elapsedMs = performance.now() - startedAt;
  return {
    ...summary,
    listenOverflows: listenOverflows() - overflowsBefore,
    proxyPeakRssMb: round(after.peakRssMb, 1),
    proxyCpuMs: round(after.cpuMs - before.cpuMs, 0),
    proxyCpuShare: round((after.cpuMs - before.cpuMs) / elapsedMs, 3),
  };
}

function summarize(rounds: readonly RoundResult[]) {
  const pick = (select: (round: RoundResult) => number | undefined) =>
    round(median(rounds.map((entry) => select(entry) ?? Number.NaN)), 2);
  return {
    completed: Math.min(...rounds.map((entry) => entry.completed)),
    latenessP50Ms: pick((entry) => entry.latenessMs.p50),
    latenessP99Ms: pick((entry) => entry.latenessMs.p99),
    latenessMaxMs: pick((entry) => entry.latenessMs.max),
    steadyLatenessP50Ms: pick((entry) => entry.steadyLatenessMs.p50),
    steadyLatenessP99Ms: pick((entry) => entry.steadyLatenessMs.p99),
    steadyEvents: pick((entry) => entry.steadyLatenessMs.count),
    allOpenAtMs: pick((entry) => entry.allOpenAtMs),
    listenOverflows: pick((entry) => entry.listenOverflows),
    timeToFirstByteP50Ms: pick((entry) => entry.timeToFirstByteMs.p50),
    timeToFirstByteP99Ms: pick((entry) => entry.timeToFirstByteMs.p99),
    proxyPeakRssMb: pick((entry) => entry.proxyPeakRssMb),
    proxyCpuShare: pick((entry) => entry.proxyCpuShare),
    rounds,
  };
}

/** Run the benchmark; returns the results object (also written to bench/results). */
export async function runStreams(): Promise<Record<string, unknown>> {
  const directory = scratchDirectory('streams');
  let agents: AgentsProcess | SseAgentsProcess | undefined;
  let proxy: ProxyProcess | undefined;
  let nginx: RunningNginx | undefined;
  try {
    log(
      `starting ${AGENT_COUNT} agents (${TOKENS} tokens, ${INTERVAL_MS} ms apart; CPU ${LOAD_CPUS})`,
    );
    agents = values.simulated
      ? await startAgentsProcess(
          AGENT_COUNT,
          // The model the stream client asks for (the simulated agents answer 404 to others, as vLLM).
          {
            model: 'mock-model',
            latencyMs: 0,
            tokenIntervalMs: INTERVAL_MS,
            completionTokens: TOKENS,
          },
          LOAD_CPUS,
        )
      : await startSseAgents(AGENT_COUNT, TOKENS, INTERVAL_MS, LOAD_CPUS);
    const agentUrls = agents.ports.map((port) => `http://127.0.0.1:${port}`);
    if (nginxAvailable()) {
      nginx = await startNginx(`${directory}/nginx`, agents.ports, { cpus: PROXY_CPUS });
    } else {
      console.log('streams: nginx is not installed — the nginx rounds are SKIPPED');
    }
    log('warm-up (200 short streams each way)');
    proxy = await startProxyProcess(directory, agents.hostfileText, { cpus: PROXY_CPUS });
    await runClient([proxy.url], AGENT_COUNT, 200, 2, 50);
    await runClient(agentUrls, 0, 200, 2, 50);
    if (nginx) await runClient([nginx.url], AGENT_COUNT, 200, 2, 50);
    await proxy.stop();
    proxy = undefined;

    const ours: RoundResult[] = [];
    const direct: RoundResult[] = [];
    const reference: RoundResult[] = [];
    for (let index = 0; index < ROUNDS; index++) {
      const fresh = await startProxyProcess(directory, agents.hostfileText, {
        cpus: PROXY_CPUS,
        extraArgs: CONNECTOR_LIMIT_ARGS,
      });
      proxy = fresh;
      ours.push(
        await measuredRound(
          () => fresh.pids(),
          () => runClient([fresh.url], AGENT_COUNT, STREAMS, TOKENS, INTERVAL_MS),
        ),
      );
      await fresh.stop();
      proxy = undefined;
      log(
        `round ${index + 1}/${ROUNDS} proxy: ${ours.at(-1)?.completed}/${STREAMS} complete, steady lateness p99 ${round(ours.at(-1)?.steadyLatenessMs.p99 ?? NaN)} ms, RSS ${ours.at(-1)?.proxyPeakRssMb} MB`,
      );
      direct.push(
        await measuredRound(
          () => [],
          () => runClient(agentUrls, 0, STREAMS, TOKENS, INTERVAL_MS),
        ),
      );
      log(
        `round ${index + 1}/${ROUNDS} direct: ${direct.at(-1)?.completed}/${STREAMS} complete, steady lateness p99 ${round(direct.at(-1)?.steadyLatenessMs.p99 ?? NaN)} ms`,
      );
      if (nginx) {
        const running = nginx;
        reference.push(
          await measuredRound(
            () => running.workerPids(),
            () => runClient([running.url], AGENT_COUNT, STREAMS, TOKENS, INTERVAL_MS),
          ),
        );
        log(
          `round ${index + 1}/${ROUNDS} nginx: ${reference.at(-1)?.completed}/${STREAMS} complete`,
        );
      }
    }
    const oursSummary = summarize(ours);
    const directSummary = summarize(direct);
    const nginxSummary = nginx ? summarize(reference) : null;
    const latenessP99DeltaMs = round(
      oursSummary.steadyLatenessP99Ms - directSummary.steadyLatenessP99Ms,
      2,
    );
    const results = {
      method: {
        streams: STREAMS,
        agentCount: AGENT_COUNT,
        tokens: TOKENS,
        tokenIntervalMs: INTERVAL_MS,
        rounds: ROUNDS,
        proxy: `aurora-swarm-proxy ${CONNECTOR_LIMIT_ARGS.join(' ')}`,
        agents: values.simulated
          ? 'simulated agents (src/mock), one process'
          : 'static streaming agents (bench/lib/sse-agents-child.ts): prebuilt vLLM-shaped SSE chunks on raw sockets, one process',
        placement: `proxy (or nginx) pinned to CPU ${PROXY_CPUS}; agents' process and the client process pinned to CPU ${LOAD_CPUS}; a fresh proxy per proxied round`,
        lateness:
          "arrival of each event minus when it was due on its stream's schedule, anchored at the stream's most punctual event (token k due k x interval after token 0, [DONE] after the last); steady: the events that arrived once every stream of the round had its response headers; all streams of a round pooled",
        memory:
          'VmHWM of the proxy process (/proc/<pid>/status) after the round; CPU from /proc/<pid>/stat',
      },
      ours: oursSummary,
      direct: directSummary,
      nginx: nginxSummary,
      latenessP99DeltaMs,
      timeToFirstByteP99: {
        oursOverDirect: ratio(oursSummary.timeToFirstByteP99Ms, directSummary.timeToFirstByteP99Ms),
        oursOverNginx: nginxSummary
          ? ratio(oursSummary.timeToFirstByteP99Ms, nginxSummary.timeToFirstByteP99Ms)
          : null,
      },
      targets: {
        allComplete: oursSummary.completed === STREAMS,
        latenessP99WithinMsOfDirect: LATENESS_TARGET_MS,
        latenessMet: latenessP99DeltaMs <= LATENESS_TARGET_MS,
        proxyRssLimitMb: 300,
        rssMet: oursSummary.proxyPeakRssMb <= 300,
      },
    };
    const path = writeResults(
      resultsName(STREAMS === 4000 ? 'streams' : `streams-${STREAMS}`),
      results,
    );
    console.log(`\nstreams: ${STREAMS} concurrent SSE streams (medians of ${ROUNDS} rounds)`);
    printTable([
      ['measure', 'proxy', 'direct', 'nginx', 'target', 'met'],
      [
        'completed',
        oursSummary.completed,
        directSummary.completed,
        nginxSummary?.completed ?? '-',
        `${STREAMS}`,
        String(results.targets.allComplete),
      ],
      [
        'lateness p50 ms',
        oursSummary.latenessP50Ms,
        directSummary.latenessP50Ms,
        nginxSummary?.latenessP50Ms ?? '-',
        '',
        '',
      ],
      [
        'lateness p99 ms, all events',
        oursSummary.latenessP99Ms,
        directSummary.latenessP99Ms,
        nginxSummary?.latenessP99Ms ?? '-',
        '',
        '',
      ],
      [
        'all streams open after ms',
        oursSummary.allOpenAtMs,
        directSummary.allOpenAtMs,
        nginxSummary?.allOpenAtMs ?? '-',
        '',
        '',
      ],
      [
        'SYNs dropped (listen queues full)',
        oursSummary.listenOverflows,
        directSummary.listenOverflows,
        nginxSummary?.listenOverflows ?? '-',
        '',
        '',
      ],
      [
        'steady events',
        oursSummary.steadyEvents,
        directSummary.steadyEvents,
        nginxSummary?.steadyEvents ?? '-',
        '',
        '',
      ],
      [
        'steady lateness p50 ms',
        oursSummary.steadyLatenessP50Ms,
        directSummary.steadyLatenessP50Ms,
        nginxSummary?.steadyLatenessP50Ms ?? '-',
        '',
        '',
      ],
      [
        'steady lateness p99 ms',
        oursSummary.steadyLatenessP99Ms,
        directSummary.steadyLatenessP99Ms,
        nginxSummary?.steadyLatenessP99Ms ?? '-',
        `<= direct + ${LATENESS_TARGET_MS} (${latenessP99DeltaMs >= 0 ? '+' : ''}${latenessP99DeltaMs})`,
        String(results.targets.latenessMet),
      ],
      [
        'TTFB p50 ms',
        oursSummary.timeToFirstByteP50Ms,
        directSummary.timeToFirstByteP50Ms,
        nginxSummary?.timeToFirstByteP50Ms ?? '-',
        '',
        '',
      ],
      [
        'TTFB p99 ms',
        oursSummary.timeToFirstByteP99Ms,
        directSummary.timeToFirstByteP99Ms,
        nginxSummary?.timeToFirstByteP99Ms ?? '-',
        `${results.timeToFirstByteP99.oursOverDirect}x direct, ${results.timeToFirstByteP99.oursOverNginx ?? '-'}x nginx`,
        '',
      ],
      [
        'proxy peak RSS MB',
        oursSummary.proxyPeakRssMb,
        '-',
        nginxSummary?.proxyPeakRssMb ?? '-',
        '<= 300',
        String(results.targets.rssMet),
      ],
      [
        'proxy CPU (cores)',
        oursSummary.proxyCpuShare,
        '-',
        nginxSummary?.proxyCpuShare ?? '-',
        '',
        '',
      ],
    ]);
    console.log(`results: ${path}`);
    return results;
  } finally {
    await proxy?.stop();
    await nginx?.stop();
    await agents?.stop();
    await stopAllChildren();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStreams();
}
