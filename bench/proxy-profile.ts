/**
 * Where our proxy spends its CPU: `node --cpu-prof` on the proxy under the load of
 * proxy-overhead (static nginx agents, wrk with 64 connections), self time summed per
 * function and per area (our src/proxy, node's HTTP server and streams, undici, GC, the
 * rest), written to bench/results/proxy-profile.json and printed.
 *
 * Before the profiled run, one unprofiled wrk run each against nginx (the reference proxy,
 * worker_processes 1) and our proxy, same placement, reads /proc around it: user and
 * system µs per request, minor page faults and context switches per 1,000 requests, and
 * the share of the process's CPU taken by threads other than the main one (V8's GC and
 * compiler helpers): what the sampled JavaScript profile cannot show.
 *
 * Run alone: `node dist/bench/proxy-profile.js [--seconds 10] [--agents 16]
 * [--connections 64] [--top 40] [--proxy-args "..."] [--keep]`. With `--keep` the
 * scratch directory and its .cpuprofile are kept (the path is printed) for Chrome DevTools
 * or speedscope; without it they are removed.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hasCommand, stopAllChildren } from './lib/child-process.js';
import { type CpuProfile, summarizeProfile } from './lib/cpu-profile.js';
import { startNginx } from './lib/nginx.js';
import { countersPerRequest, cpuMsOf, processCounters } from './lib/proc-stats.js';
import { type ProxyProcess, resultsName, startProxyProcess } from './lib/proxy-process.js';
import { log, printTable, scratchDirectory, writeResults } from './lib/results.js';
import { type StaticAgents, startStaticAgents } from './lib/static-agents.js';
import { round } from './lib/stats.js';
import { runWrk, writeWrkScript } from './lib/wrk.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    agents: { type: 'string', default: '16' },
    connections: { type: 'string', default: '64' },
    top: { type: 'string', default: '40' },
    'proxy-args': { type: 'string', default: '' },
    keep: { type: 'boolean', default: false },
  },
});
const SECONDS = Math.min(120, Math.max(1, Number(values.seconds)));
const AGENT_COUNT = Math.min(512, Math.max(1, Number(values.agents)));
const CONNECTIONS = Math.min(1024, Math.max(1, Number(values.connections)));
const TOP = Math.min(200, Math.max(1, Number(values.top)));
const PROXY_ARGS = values['proxy-args'].split(' ').filter((word) => word !== '');

/** Run the profile; returns the results object (also written to bench/results). */
export async function runProxyProfile(): Promise<Record<string, unknown>> {
  if (!hasCommand('wrk') || !hasCommand('nginx')) {
    console.log(
      'proxy-profile: SKIPPED — needs wrk and nginx (apt-get install -y nginx-light wrk)',
    );
    return { skipped: 'wrk or nginx not installed' };
  }
  const directory = scratchDirectory('proxy-profile');
  const profileDirectory = join(directory, 'profiles');
  let agents: StaticAgents | undefined;
  let proxy: ProxyProcess | undefined;
  try {
    agents = await startStaticAgents(`${directory}/agents`, AGENT_COUNT, '1');
    proxy = await startProxyProcess(directory, agents.hostfileText, {
      cpus: '0',
      extraArgs: PROXY_ARGS,
      nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDirectory],
    });
    const script = writeWrkScript(directory, 'prefixed', { prefixAgents: AGENT_COUNT });
    const counters: Record<string, unknown> = {};
    {
      const reference = await startNginx(`${directory}/nginx`, agents.ports, { cpus: '0' });
      const plain = await startProxyProcess(`${directory}`, agents.hostfileText, {
        cpus: '0',
        extraArgs: PROXY_ARGS,
      });
      try {
        for (const [name, url, pid] of [
          ['nginx', reference.url, reference.workerPids()[0] ?? 0],
          ['ours', plain.url, plain.child.pid],
        ] as const) {
          const load = { url, script, threads: 1, connections: CONNECTIONS, cpus: '1' };
          await runWrk({ ...load, durationSeconds: 2 });
          const start = processCounters(pid);
          const run = await runWrk({ ...load, durationSeconds: Math.min(SECONDS, 5) });
          counters[name] = {
            requestsPerSecond: round(run.requestsPerSecond, 0),
            ...countersPerRequest(start, processCounters(pid), run.requests),
          };
        }
      } finally {
        await plain.stop();
        await reference.stop();
      }
    }
    log(`profiling ${proxy.url} for ${SECONDS} s (wrk, ${CONNECTIONS} connections)`);
    const before = cpuMsOf(proxy.pids());
    const result = await runWrk({
      url: proxy.url,
      script,
      threads: 1,
      connections: CONNECTIONS,
      durationSeconds: SECONDS,
      cpus: '1',
    });
    const cpuMs = cpuMsOf(proxy.pids()) - before;
    await proxy.stop();
    proxy = undefined;
    const file = readdirSync(profileDirectory).find((name) => name.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no .cpuprofile written in ${profileDirectory}`);
    const profilePath = join(profileDirectory, file);
    const summary = summarizeProfile(
      JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile,
      TOP,
    );
    const results = {
      method: {
        load: `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, POST /agent/{i}/v1/chat/completions over ${AGENT_COUNT} static nginx agents (CPU 1); the proxy under --cpu-prof on CPU 0`,
        note: 'self time per function; shares of the non-idle sampled time of the whole process life (start-up and the wrk run)',
        proxyArgs: PROXY_ARGS,
      },
      requestsPerSecond: round(result.requestsPerSecond, 0),
      cpuUsPerRequest: round((cpuMs * 1000) / result.requests, 1),
      counters,
      ...summary,
    };
    const path = writeResults(resultsName('proxy-profile'), results);
    console.log(
      `\n${results.requestsPerSecond} req/s under the profiler, ${results.cpuUsPerRequest} µs CPU per request`,
    );
    printTable([
      [
        'unprofiled',
        'req/s',
        'user µs/req',
        'system µs/req',
        'minor faults /1000 req',
        'context switches /1000 req',
        'other threads share',
      ],
      ...Object.entries(counters).map(([name, value]) => {
        const entry = value as ReturnType<typeof countersPerRequest> & {
          requestsPerSecond: number;
        };
        return [
          name,
          entry.requestsPerSecond,
          entry.userUs,
          entry.systemUs,
          entry.minorFaultsPer1000,
          entry.contextSwitchesPer1000,
          `${entry.otherThreadsShare} (${entry.threads} threads)`,
        ];
      }),
    ]);
    console.log('');
    printTable([
      ['area', 'ms', '%'],
      ...summary.areas.map((entry) => [entry.area, entry.ms, entry.percent]),
    ]);
    console.log('');
    printTable([
      ['function (self time)', 'area', '%'],
      ...summary.functions.map((entry) => [entry.name, entry.area, entry.percent]),
    ]);
    console.log(`results: ${path}${values.keep ? `\nprofile: ${profilePath}` : ''}`);
    return results;
  } finally {
    await proxy?.stop();
    await agents?.stop();
    await stopAllChildren();
    if (!values.keep) rmSync(directory, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runProxyProfile();
}
