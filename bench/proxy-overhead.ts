/**
 * Benchmark 1, proxy overhead: requests/s of small non-streamed chat requests at
 * concurrency 64 through our proxy vs nginx doing the same path-prefix routing, and
 * the latency our proxy adds at concurrency 1 vs going straight to the agent.
 *
 * Run alone: `node dist/bench/proxy-overhead.js [--rounds 3] [--seconds 5] [--agents 16]`.
 * Method (see bench/README.md): agents in their own child process; the proxy under
 * test (ours or nginx, one worker each) pinned to CPU 0; wrk and the agents pinned to
 * CPU 1, so the proxy's CPU is measured alone and the two proxies get the same core.
 * Rounds are interleaved (ours, nginx, ours, nginx, ...) after a warm-up of each.
 */
import { parseArgs } from 'node:util';
import { type AgentsProcess, startAgentsProcess } from './lib/agents.js';
import { hasCommand, stopAllChildren } from './lib/child-process.js';
import { nginxAvailable, type RunningNginx, startNginx } from './lib/nginx.js';
import { sampleProcess } from './lib/proc-stats.js';
import { type ProxyProcess, startProxyProcess } from './lib/proxy-process.js';
import { log, printTable, scratchDirectory, writeResults } from './lib/results.js';
import { median, ratio, round } from './lib/stats.js';
import { runWrk, type WrkResult, writeWrkScript } from './lib/wrk.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    agents: { type: 'string', default: '16' },
    connections: { type: 'string', default: '64' },
    'no-cluster': { type: 'boolean', default: false },
  },
});
const ROUNDS = Math.min(20, Math.max(1, Number(values.rounds)));
const SECONDS = Math.min(60, Math.max(1, Number(values.seconds)));
const AGENT_COUNT = Math.min(512, Math.max(1, Number(values.agents)));
const CONNECTIONS = Math.min(1024, Math.max(1, Number(values.connections)));
const WARMUP_SECONDS = 2;
const SUT_CPUS = '0';
const LOAD_CPUS = '1';

/** One measured wrk run against a process whose CPU we sample. */
interface Measured {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU time of the proxy under test per request, in microseconds. */
  cpuUsPerRequest: number;
}

async function measure(
  url: string,
  script: string,
  connections: number,
  pids: () => number[],
  seconds = SECONDS,
): Promise<Measured> {
  const cpuOf = () =>
    pids().reduce((sum, pid) => {
      try {
        return sum + sampleProcess(pid).cpuMs;
      } catch {
        return sum;
      }
    }, 0);
  const before = cpuOf();
  const result: WrkResult = await runWrk({
    url,
    script,
    threads: 1,
    connections,
    durationSeconds: seconds,
    cpus: LOAD_CPUS,
  });
  const cpuMs = cpuOf() - before;
  if (Number.isNaN(result.requestsPerSecond)) {
    throw new Error(`wrk produced no summary:\n${result.raw}`);
  }
  return {
    requestsPerSecond: result.requestsPerSecond,
    p50Ms: result.latencyMs.p50,
    p99Ms: result.latencyMs.p99,
    errors: result.errors,
    cpuUsPerRequest: result.requests > 0 ? (cpuMs * 1000) / result.requests : Number.NaN,
  };
}

function summarize(runs: readonly Measured[]) {
  return {
    requestsPerSecond: round(median(runs.map((run) => run.requestsPerSecond)), 0),
    p50Ms: round(median(runs.map((run) => run.p50Ms)), 3),
    p99Ms: round(median(runs.map((run) => run.p99Ms)), 3),
    cpuUsPerRequest: round(median(runs.map((run) => run.cpuUsPerRequest)), 1),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    runs: runs.map((run) => ({ ...run, cpuUsPerRequest: round(run.cpuUsPerRequest, 1) })),
  };
}

/** Run the benchmark; returns the results object (also written to bench/results). */
export async function runProxyOverhead(): Promise<Record<string, unknown>> {
  if (!hasCommand('wrk')) {
    console.log('proxy-overhead: SKIPPED — wrk is not installed (apt-get install -y wrk)');
    return { skipped: 'wrk not installed' };
  }
  const directory = scratchDirectory('proxy-overhead');
  let agents: AgentsProcess | undefined;
  let proxy: ProxyProcess | undefined;
  let nginx: RunningNginx | undefined;
  try {
    log(`starting ${AGENT_COUNT} agents (child process, CPU ${LOAD_CPUS})`);
    agents = await startAgentsProcess(
      AGENT_COUNT,
      { latencyMs: 0, completionTokens: 8 },
      LOAD_CPUS,
    );
    proxy = await startProxyProcess(directory, agents.hostfileText, { cpus: SUT_CPUS });
    log(`proxy on ${proxy.url} (CPU ${SUT_CPUS})`);
    const useNginx = nginxAvailable();
    if (useNginx) {
      nginx = await startNginx(`${directory}/nginx`, agents.ports, { cpus: SUT_CPUS });
      log(`nginx on ${nginx.url} (CPU ${SUT_CPUS}, 1 worker)`);
    } else {
      console.log(
        'proxy-overhead: nginx is not installed — the nginx comparison is SKIPPED (apt-get install -y nginx-light)',
      );
    }
    const prefixed = writeWrkScript(directory, 'prefixed', { prefixAgents: AGENT_COUNT });
    const direct = writeWrkScript(directory, 'direct', {});
    const proxyPids = () => proxy?.pids() ?? [];
    const nginxPids = () => nginx?.workerPids() ?? [];
    const agentUrl = `http://127.0.0.1:${agents.ports[0]}`;

    log('warm-up');
    await measure(proxy.url, prefixed, CONNECTIONS, proxyPids, WARMUP_SECONDS);
    if (nginx) await measure(nginx.url, prefixed, CONNECTIONS, nginxPids, WARMUP_SECONDS);

    const ours: Measured[] = [];
    const reference: Measured[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ours.push(await measure(proxy.url, prefixed, CONNECTIONS, proxyPids));
      log(`round ${round + 1}/${ROUNDS} ours: ${ours.at(-1)?.requestsPerSecond} req/s`);
      if (nginx) {
        reference.push(await measure(nginx.url, prefixed, CONNECTIONS, nginxPids));
        log(`round ${round + 1}/${ROUNDS} nginx: ${reference.at(-1)?.requestsPerSecond} req/s`);
      }
    }

    const latencyDirect: Measured[] = [];
    const latencyProxy: Measured[] = [];
    const latencyNginx: Measured[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      latencyDirect.push(await measure(agentUrl, direct, 1, () => []));
      latencyProxy.push(await measure(proxy.url, prefixed, 1, proxyPids));
      if (nginx) latencyNginx.push(await measure(nginx.url, prefixed, 1, nginxPids));
      log(
        `latency round ${round + 1}/${ROUNDS}: direct p50 ${latencyDirect.at(-1)?.p50Ms} ms, proxy p50 ${latencyProxy.at(-1)?.p50Ms} ms`,
      );
    }
    await proxy.stop();
    proxy = undefined;

    let cluster: ReturnType<typeof summarize> | undefined;
    let clusterSingle: ReturnType<typeof summarize> | undefined;
    if (!values['no-cluster']) {
      // Two workers need both cores: the proxy is unpinned here, and compared with
      // one worker placed the same way (both compete with wrk and the agents).
      const clusterRuns: Measured[] = [];
      const singleRuns: Measured[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        for (const workers of [2, 1]) {
          const candidate = await startProxyProcess(directory, agents.hostfileText, { workers });
          proxy = candidate;
          await measure(candidate.url, prefixed, CONNECTIONS, () => candidate.pids(), 1);
          const run = await measure(candidate.url, prefixed, CONNECTIONS, () => candidate.pids());
          (workers === 2 ? clusterRuns : singleRuns).push(run);
          log(
            `cluster round ${round + 1}/${ROUNDS}, ${workers} worker(s): ${run.requestsPerSecond} req/s`,
          );
          await candidate.stop();
          proxy = undefined;
        }
      }
      cluster = summarize(clusterRuns);
      clusterSingle = summarize(singleRuns);
    }

    const oursSummary = summarize(ours);
    const nginxSummary = nginx ? summarize(reference) : undefined;
    const direct1 = summarize(latencyDirect);
    const proxy1 = summarize(latencyProxy);
    const nginx1 = nginx ? summarize(latencyNginx) : undefined;
    const addedP50Ms = round(
      median(latencyProxy.map((run, index) => run.p50Ms - (latencyDirect[index]?.p50Ms ?? NaN))),
      3,
    );
    const addedP99Ms = round(
      median(latencyProxy.map((run, index) => run.p99Ms - (latencyDirect[index]?.p99Ms ?? NaN))),
      3,
    );
    const throughputRatio = nginxSummary
      ? ratio(oursSummary.requestsPerSecond, nginxSummary.requestsPerSecond)
      : null;
    const results = {
      method: {
        agents: AGENT_COUNT,
        connections: CONNECTIONS,
        roundSeconds: SECONDS,
        rounds: ROUNDS,
        warmupSeconds: WARMUP_SECONDS,
        placement: `proxy under test pinned to CPU ${SUT_CPUS}; wrk (1 thread) and the agents' process pinned to CPU ${LOAD_CPUS}; cluster rounds unpinned`,
        request:
          'POST /agent/{i}/v1/chat/completions, i rotating over the agents, max_tokens 8, not streamed, mock latency 0',
        nginx: nginx
          ? 'worker_processes 1; upstream per agent with keepalive 64; proxy_http_version 1.1; Connection ""; proxy_buffering off'
          : 'not installed',
      },
      throughput: {
        ours: oursSummary,
        nginx: nginxSummary ?? null,
        ratio: throughputRatio,
        cpuPerRequestRatio: nginxSummary
          ? ratio(oursSummary.cpuUsPerRequest, nginxSummary.cpuUsPerRequest)
          : null,
        target: 'ours >= 0.35 x nginx',
        met: throughputRatio === null ? null : throughputRatio >= 0.35,
      },
      latency: {
        direct: direct1,
        ours: proxy1,
        nginx: nginx1 ?? null,
        addedP50Ms,
        addedP99Ms,
        nginxAddedP50Ms: nginx1
          ? round(
              median(
                latencyNginx.map((run, index) => run.p50Ms - (latencyDirect[index]?.p50Ms ?? NaN)),
              ),
              3,
            )
          : null,
        target: 'added p50 <= 0.25 ms',
        met: addedP50Ms <= 0.25,
      },
      cluster: cluster
        ? {
            twoWorkers: cluster,
            oneWorker: clusterSingle,
            ratio: ratio(cluster.requestsPerSecond, clusterSingle?.requestsPerSecond ?? NaN),
          }
        : null,
    };
    const path = writeResults('proxy-overhead', results);
    console.log('\nproxy-overhead (medians)');
    printTable([
      ['measure', 'ours', 'reference', 'ratio', 'target', 'met'],
      [
        `req/s @ c=${CONNECTIONS}`,
        oursSummary.requestsPerSecond,
        nginxSummary?.requestsPerSecond ?? 'skipped',
        throughputRatio ?? '-',
        '>= 0.35',
        String(results.throughput.met),
      ],
      [
        'proxy CPU us/request',
        oursSummary.cpuUsPerRequest,
        nginxSummary?.cpuUsPerRequest ?? '-',
        results.throughput.cpuPerRequestRatio ?? '-',
        '',
        '',
      ],
      [
        'p50 ms @ c=1',
        proxy1.p50Ms,
        `${direct1.p50Ms} (direct)`,
        `+${addedP50Ms}`,
        '<= +0.25',
        String(results.latency.met),
      ],
      ['p99 ms @ c=1', proxy1.p99Ms, `${direct1.p99Ms} (direct)`, `+${addedP99Ms}`, '', ''],
      ...(cluster && clusterSingle
        ? [
            [
              'req/s 2 workers vs 1',
              cluster.requestsPerSecond,
              clusterSingle.requestsPerSecond,
              results.cluster?.ratio ?? '-',
              '',
              '',
            ],
          ]
        : []),
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
  await runProxyOverhead();
}
