/**
 * Resource hygiene of the proxy (issue 16 item 7), two measurements:
 *
 * 1. Aborted streams: N clients each open an SSE chat stream through the proxy, read
 *    its first chunk and disconnect. The proxy's open descriptors (/proc/<pid>/fd) and
 *    the agents' (their process's) are counted before, right after, and 1.5 s after;
 *    no upstream connection may outlive its exchange, and none may be opened for an
 *    exchange whose client already left.
 * 2. A burst over many agents: a broadcast to every agent and a scatter-gather of N
 *    prompts (a `VLLMPool` through the proxy, concurrency 512) over 2,000 static nginx
 *    agents; the proxy's RSS, peak RSS and descriptors before, right after, and 5, 15
 *    and 30 s later: idle upstream connections are bounded per agent and close after
 *    the keep-alive timeout, so memory returns near its start.
 *
 * Run alone: `node dist/bench/proxy-hygiene.js [--aborted 500] [--burst-agents 2000]
 * [--burst-prompts 20000] [--proxy-args "..."]`.
 */
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { startAgentsProcess } from './lib/agents.js';
import type { BurstClientOptions, BurstClientSummary } from './lib/burst-client-child.js';
import { benchScript, hasCommand, startChild, stopAllChildren } from './lib/child-process.js';
import { openDescriptors, sampleProcess } from './lib/proc-stats.js';
import { resultsName, startProxyProcess } from './lib/proxy-process.js';
import { log, printTable, scratchDirectory, writeResults } from './lib/results.js';
import { startStaticAgents } from './lib/static-agents.js';
import { round } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    aborted: { type: 'string', default: '500' },
    'burst-agents': { type: 'string', default: '2000' },
    'burst-prompts': { type: 'string', default: '20000' },
    'proxy-args': { type: 'string', default: '' },
  },
});
const ABORTED = Math.min(4000, Math.max(1, Number(values.aborted)));
const BURST_AGENTS = Math.min(8000, Math.max(1, Number(values['burst-agents'])));
const BURST_PROMPTS = Math.min(200_000, Math.max(0, Number(values['burst-prompts'])));
const PROXY_ARGS = values['proxy-args'].split(' ').filter((word) => word !== '');
const SETTLE_MS = 1_500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One SSE chat request through the proxy; resolves with the status line once its
 * first bytes came and the client left.
 */
function abortAfterFirstChunk(port: number, agent: number): Promise<string> {
  // No `model`: the simulated agent serves a request without one (as vLLM does).
  const body = JSON.stringify({
    messages: [{ role: 'user', content: 'Stream a long answer' }],
    stream: true,
  });
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /agent/${agent}/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    const done = (status: string) => {
      socket.destroy();
      resolve(status);
    };
    // The response head (and perhaps the first event): the stream has started.
    socket.once('data', (data: Buffer) => done(data.toString('latin1').split('\r\n', 1)[0] ?? ''));
    socket.once('error', (error) => done(error.message));
    socket.setTimeout(30_000, () => done('no answer within 30 s'));
  });
}

async function measureAbortedStreams(directory: string) {
  const agents = await startAgentsProcess(2, {
    latencyMs: 0,
    tokenIntervalMs: 100,
    completionTokens: 1000,
  });
  const proxy = await startProxyProcess(directory, agents.hostfileText, {
    extraArgs: PROXY_ARGS,
  });
  try {
    const port = Number(new URL(proxy.url).port);
    // One stream each way first, so that lazily created things (the upstream pools,
    // the first health round's connections) exist before counting.
    await Promise.all([abortAfterFirstChunk(port, 0), abortAfterFirstChunk(port, 1)]);
    await sleep(SETTLE_MS);
    const count = () => ({
      proxy: openDescriptors(proxy.child.pid),
      agents: openDescriptors(agents.child.pid),
    });
    const before = count();
    const acceptedBefore = (await agents.stats()).accepted;
    const startedAt = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: ABORTED }, (_, index) => abortAfterFirstChunk(port, index % 2)),
    );
    const streamed = statuses.filter((status) => status === 'HTTP/1.1 200 OK').length;
    if (streamed !== ABORTED) {
      throw new Error(
        `only ${streamed} of ${ABORTED} streams started (first other answer: ${statuses.find((status) => status !== 'HTTP/1.1 200 OK')})`,
      );
    }
    const elapsedMs = performance.now() - startedAt;
    const rightAfter = count();
    await sleep(SETTLE_MS);
    const settled = count();
    const stats = await agents.stats();
    return {
      streams: ABORTED,
      openedAndLeftInMs: round(elapsedMs, 0),
      descriptors: { before, rightAfter, after1500Ms: settled },
      proxyDelta: settled.proxy - before.proxy,
      agentsDelta: settled.agents - before.agents,
      agentRequests: stats.requests,
      /** Connections the agents accepted during the aborted streams (one per stream at most). */
      agentAcceptedConnections: stats.accepted - acceptedBefore,
      agentAborted: stats.aborted,
    };
  } finally {
    await proxy.stop();
    await agents.stop();
  }
}

async function measureBurst(directory: string) {
  const agents = await startStaticAgents(`${directory}/burst-agents`, BURST_AGENTS);
  const proxy = await startProxyProcess(directory, agents.hostfileText, {
    extraArgs: PROXY_ARGS,
  });
  try {
    // Let the first health round (a probe per agent) finish and its connections close.
    await sleep(6_000);
    const sample = (label: string) => {
      const memory = sampleProcess(proxy.child.pid);
      return {
        at: label,
        rssMb: round(memory.rssMb, 1),
        peakRssMb: round(memory.peakRssMb, 1),
        descriptors: openDescriptors(proxy.child.pid),
      };
    };
    const samples = [sample('before')];
    const options: BurstClientOptions = {
      proxyUrl: proxy.url,
      ports: [...agents.ports],
      prompts: BURST_PROMPTS,
      concurrency: 512,
      deadlineMs: 300_000,
    };
    const client = await startChild(
      process.execPath,
      [benchScript('lib/burst-client-child.js'), JSON.stringify(options)],
      { name: 'burst-client' },
    );
    const done = await client.waitFor(/^BURST DONE (.+)$/, options.deadlineMs + 20_000);
    await client.stop();
    const summary = JSON.parse(done[1] as string) as BurstClientSummary;
    samples.push(sample('right after'));
    let waitedMs = 0;
    for (const atMs of [5_000, 15_000, 30_000]) {
      await sleep(atMs - waitedMs);
      waitedMs = atMs;
      samples.push(sample(`+${atMs / 1000} s`));
    }
    return {
      agents: BURST_AGENTS,
      prompts: BURST_PROMPTS,
      client: summary,
      samples,
    };
  } finally {
    await proxy.stop();
    await agents.stop();
  }
}

/** Run both measurements; returns the results object (also written to bench/results). */
export async function runProxyHygiene(): Promise<Record<string, unknown>> {
  const directory = scratchDirectory('proxy-hygiene');
  try {
    log(`aborted streams: ${ABORTED} clients leave after the first chunk`);
    const aborted = await measureAbortedStreams(directory);
    log(
      `descriptors: proxy ${aborted.descriptors.before.proxy} → ${aborted.descriptors.rightAfter.proxy} → ${aborted.descriptors.after1500Ms.proxy}, agents ${aborted.descriptors.before.agents} → ${aborted.descriptors.after1500Ms.agents}`,
    );
    let burst: Awaited<ReturnType<typeof measureBurst>> | null = null;
    if (hasCommand('nginx')) {
      log(`burst: broadcast + ${BURST_PROMPTS} prompts over ${BURST_AGENTS} static agents`);
      burst = await measureBurst(directory);
    } else {
      console.log('proxy-hygiene: nginx is not installed — the burst is SKIPPED');
    }
    const results = {
      method: {
        aborted: `2 simulated agents (SSE, 1000 tokens 100 ms apart); ${ABORTED} raw clients at once each read the first chunk and close; open descriptors of the proxy and the agents' process from /proc/<pid>/fd, before, right after, ${SETTLE_MS} ms after`,
        burst: `${BURST_AGENTS} static nginx agents; a VLLMPool through the proxy (concurrency 512): broadcast, then scatterGather of ${BURST_PROMPTS} prompts; proxy VmRSS/VmHWM and descriptors`,
        proxyArgs: PROXY_ARGS,
      },
      aborted,
      burst,
    };
    const path = writeResults(resultsName('proxy-hygiene'), results);
    console.log('\naborted streams');
    printTable([
      ['descriptors', 'before', 'right after', `+${SETTLE_MS} ms`, 'delta'],
      [
        'proxy',
        aborted.descriptors.before.proxy,
        aborted.descriptors.rightAfter.proxy,
        aborted.descriptors.after1500Ms.proxy,
        aborted.proxyDelta,
      ],
      [
        'agents',
        aborted.descriptors.before.agents,
        aborted.descriptors.rightAfter.agents,
        aborted.descriptors.after1500Ms.agents,
        aborted.agentsDelta,
      ],
    ]);
    console.log(
      `agents accepted ${aborted.agentAcceptedConnections} connections for ${aborted.streams} aborted streams (at most one each: none for an exchange whose client had left)`,
    );
    if (burst) {
      console.log(
        `\nburst over ${burst.agents} agents (${burst.client.broadcastSucceeded} + ${burst.client.scatterSucceeded} answers)`,
      );
      printTable([
        ['at', 'RSS MB', 'peak MB', 'descriptors'],
        ...burst.samples.map((entry) => [
          entry.at,
          entry.rssMb,
          entry.peakRssMb,
          entry.descriptors,
        ]),
      ]);
    }
    console.log(`results: ${path}`);
    return results;
  } finally {
    await stopAllChildren();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runProxyHygiene();
}
