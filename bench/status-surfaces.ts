/**
 * The status surfaces at scale: what one poll of the status page costs at 2,000 and
 * 8,000 agents — bytes on the wire (what an SSH tunnel carries), the proxy's time and
 * CPU to answer, and the page's own work in headless Chromium — for the full
 * `/status` (what the page polled before the compact form, and what scripts get) and
 * for `/status?view=compact&since=` (what it polls now).
 *
 *   npm run build && node dist/bench/status-surfaces.js [--agents 2000,8000]
 *       [--requests 20] [--polls 8] [--interval-ms 2000] [--no-browser] [--screenshot file.png]
 *
 * Method (bench/README.md, "Status surfaces at scale"): 16 simulated agents (300 ms
 * per answer) in their own process; the real proxy bin in another, pinned to CPU 0,
 * over a hostfile of N entries cycling over the 16 agents, 1% of them a closed port
 * (unhealthy, with a last error). `--health-interval 3600`: the probe round at start
 * marks the dead entries, and no round lands inside a timing. Every live entry
 * answers once first, so each has latency percentiles as in a busy swarm. Then, idle
 * and under load (128 chat requests kept in flight over random entries):
 * - server: `--requests` sequential GETs of each form: loopback round trip (median,
 *   p90) and the proxy's CPU per request (utime+stime from /proc);
 * - polls: `--polls` polls of each form `--interval-ms` apart, as the page makes
 *   them (compact with `since`): body bytes and rows sent;
 * - page (Chromium at `/?refresh=2`, idle and under load): time from navigation to
 *   every square in the DOM, and the renderer's CPU until that picture is painted;
 *   then per poll the renderer's CPU time (/proc: robust on a shared machine) and
 *   main-thread task time (CDP Performance.getMetrics: wall time, inflated when the
 *   cores are shared), the longest task (Long Tasks API), and the bytes fetched.
 * A proxy without the compact form (run from an older checkout) is measured too:
 * its compact figures are then "n/a" and the page figures are the old page's.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CDPSession, Page } from 'playwright-core';
import { Agent, request } from 'undici';
import { startAgentsProcess } from './lib/agents.js';
import { stopAllChildren } from './lib/child-process.js';
import { chromiumCpuMs, chromiumInstalled, launchChromium } from './lib/chromium.js';
import { freePort } from './lib/free-port.js';
import { sampleProcess } from './lib/proc-stats.js';
import { type ProxyProcess, startProxyProcess } from './lib/proxy-process.js';
import { log, printTable, scratchDirectory, writeResults } from './lib/results.js';
import { median, percentile, round } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '2000,8000' },
    requests: { type: 'string', default: '50' },
    polls: { type: 'string', default: '8' },
    'interval-ms': { type: 'string', default: '2000' },
    'no-browser': { type: 'boolean', default: false },
    screenshot: { type: 'string' },
  },
});
const SIZES = values.agents.split(',').map((text) => Math.min(20_000, Math.max(1, Number(text))));
const REQUESTS = Math.min(200, Math.max(1, Number(values.requests)));
const POLLS = Math.min(50, Math.max(2, Number(values.polls)));
const INTERVAL_MS = Math.min(10_000, Math.max(100, Number(values['interval-ms'])));
const BROWSER = !values['no-browser'] && chromiumInstalled();
const SKIPPED = 'skipped (no chromium, or --no-browser)';
const MOCK_AGENTS = 16;
const WARMUP_REQUESTS = 5;
const DEAD_SHARE = 0.01;
const LOAD_IN_FLIGHT = 128;
const CHAT_BODY = JSON.stringify({
  model: 'mock-model',
  messages: [{ role: 'user', content: 'hi' }],
});

const dispatcher = new Agent({ connections: 512, keepAliveTimeout: 30_000 });

/** GET `path`: body bytes, round trip in ms, the parsed body. */
async function get(url: string, path: string) {
  const started = performance.now();
  const response = await request(`${url}${path}`, { dispatcher });
  const body = Buffer.from(await response.body.arrayBuffer());
  const ms = performance.now() - started;
  if (response.statusCode !== 200) throw new Error(`${path}: HTTP ${response.statusCode}`);
  return { bytes: body.length, ms, json: JSON.parse(body.toString('utf8')) };
}

/** Requests kept in flight over `indexes` until stopped. */
function startLoad(url: string, indexes: readonly number[], inFlight: number) {
  let running = true;
  let sent = 0;
  const loop = async () => {
    while (running) {
      const index = indexes[Math.floor(Math.random() * indexes.length)] as number;
      sent++;
      try {
        const response = await request(`${url}/agent/${index}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: CHAT_BODY,
          dispatcher,
        });
        await response.body.dump();
      } catch {
        // The proxy stopping at the end.
      }
    }
  };
  const loops = Array.from({ length: inFlight }, loop);
  return {
    sent: () => sent,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** `count` sequential GETs of `path` (a function: compact polls pass their since). */
async function serverTiming(proxy: ProxyProcess, path: () => string, count: number) {
  const url = proxy.url;
  const times: number[] = [];
  let bytes = 0;
  // Unmeasured first: the proxy's JIT warms up on this form.
  for (let index = 0; index < WARMUP_REQUESTS; index++) await get(url, path());
  const cpuBefore = sampleProcess(proxy.child.pid).cpuMs;
  for (let index = 0; index < count; index++) {
    const answer = await get(url, path());
    times.push(answer.ms);
    bytes = answer.bytes;
  }
  const cpuMs = sampleProcess(proxy.child.pid).cpuMs - cpuBefore;
  return {
    bytes,
    roundTripMsP50: round(median(times)),
    roundTripMsP90: round(percentile(times, 0.9)),
    proxyCpuMsPerRequest: round(cpuMs / count),
  };
}

/** Polls as the page makes them, `INTERVAL_MS` apart: full and compact in turn. */
async function pageLikePolls(url: string, compact: boolean) {
  const full: number[] = [];
  const compactBytes: number[] = [];
  const rows: number[] = [];
  let version = compact ? (await get(url, '/status?view=compact')).json.version : undefined;
  for (let poll = 0; poll < POLLS; poll++) {
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
    full.push((await get(url, '/status')).bytes);
    if (compact) {
      const answer = await get(url, `/status?view=compact&since=${version}`);
      compactBytes.push(answer.bytes);
      rows.push(answer.json.rows.length);
      version = answer.json.version;
    }
  }
  return {
    fullBytesP50: median(full),
    compactBytesP50: compact ? median(compactBytes) : 'n/a',
    compactBytesMax: compact ? Math.max(...compactBytes) : 'n/a',
    compactRowsP50: compact ? median(rows) : 'n/a',
    compactRowsMax: compact ? Math.max(...rows) : 'n/a',
  };
}

/** Main-thread seconds so far, by kind (CDP Performance.getMetrics). */
interface MainThread {
  task: number;
  script: number;
  layout: number;
  style: number;
}

async function mainThreadSeconds(cdp: CDPSession): Promise<MainThread> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as {
    metrics: { name: string; value: number }[];
  };
  const value = (name: string) => metrics.find((metric) => metric.name === name)?.value ?? 0;
  return {
    task: value('TaskDuration'),
    script: value('ScriptDuration'),
    layout: value('LayoutDuration'),
    style: value('RecalcStyleDuration'),
  };
}

/** Main-thread milliseconds per poll between two samples, by kind. */
function perPoll(start: MainThread, end: MainThread, polls: number) {
  const ms = (key: keyof MainThread) =>
    round(((end[key] - start[key]) * 1000) / Math.max(1, polls));
  return {
    mainThreadMsPerPoll: ms('task'),
    scriptMsPerPoll: ms('script'),
    layoutMsPerPoll: ms('layout'),
    styleMsPerPoll: ms('style'),
  };
}

/** The page: first render, then `POLLS` polls at its default 2 s. */
async function measurePage(url: string, agents: number, screenshot: string | undefined) {
  const browser = await launchChromium();
  try {
    const page: Page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // Runs in the page before its own script (the DOM's types are not this project's).
    await page.addInitScript({
      content:
        'globalThis.longTasks = []; new PerformanceObserver((list) => { for (const entry of list.getEntries()) globalThis.longTasks.push(entry.duration); }).observe({ type: "longtask", buffered: true });',
    });
    const polled: number[] = [];
    page.on('response', (response) => {
      if (!new URL(response.url()).pathname.endsWith('/status')) return;
      // A body still on its way when the page closes is not counted.
      response.body().then(
        (body) => polled.push(body.length),
        () => undefined,
      );
    });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const cpuBeforeLoad = chromiumCpuMs();
    await page.goto(`${url}/?refresh=2`);
    const readyMs = await page.waitForFunction(
      (count) => {
        const scope = globalThis as unknown as {
          document: { querySelectorAll(selector: string): { length: number } };
          performance: { now(): number };
        };
        return scope.document.querySelectorAll('#grid .cell').length >= count
          ? scope.performance.now()
          : 0;
      },
      agents,
      { polling: 'raf', timeout: 120_000 },
    );
    const firstRenderMs = round(Number(await readyMs.jsonValue()));
    // Two frames later the first picture is painted.
    await page.evaluate(
      () =>
        new Promise((resolve) => {
          const scope = globalThis as unknown as {
            requestAnimationFrame(callback: () => void): void;
          };
          scope.requestAnimationFrame(() => scope.requestAnimationFrame(() => resolve(undefined)));
        }),
    );
    const firstRenderRendererCpuMs = round(
      (chromiumCpuMs().renderer ?? 0) - (cpuBeforeLoad.renderer ?? 0),
    );
    const longTasks = () =>
      page.evaluate(() => (globalThis as unknown as { longTasks: number[] }).longTasks.slice());
    const firstLongTasks = await longTasks();
    const start = await mainThreadSeconds(cdp);
    const cpuStart = chromiumCpuMs();
    const pollsBefore = polled.length;
    await new Promise((resolve) => setTimeout(resolve, POLLS * 2000 + 500));
    const end = await mainThreadSeconds(cdp);
    const cpuEnd = chromiumCpuMs();
    const cpuPerPoll = (type: string) =>
      round(
        ((cpuEnd[type] ?? 0) - (cpuStart[type] ?? 0)) / Math.max(1, polled.length - pollsBefore),
      );
    const steadyPolls = polled.slice(pollsBefore);
    const steadyLongTasks = (await longTasks()).slice(firstLongTasks.length);
    if (screenshot !== undefined) await page.screenshot({ path: screenshot });
    return {
      firstRenderMs,
      firstRenderRendererCpuMs,
      firstLongestTaskMs: round(Math.max(0, ...firstLongTasks)),
      steadyPolls: steadyPolls.length,
      pageBytesPerPollP50: median(steadyPolls),
      ...perPoll(start, end, steadyPolls.length),
      rendererCpuMsPerPoll: cpuPerPoll('renderer'),
      gpuProcessCpuMsPerPoll: cpuPerPoll('gpu-process'),
      steadyLongestTaskMs: round(Math.max(0, ...steadyLongTasks)),
    };
  } finally {
    await browser.close();
  }
}

/** One swarm size: proxy, warm-up, then idle and loaded figures. */
async function measureSize(hostPorts: readonly number[], agents: number) {
  const deadPort = await freePort();
  const dead = new Set<number>();
  const lines: string[] = [];
  for (let index = 0; index < agents; index++) {
    const isDead = index % Math.round(1 / DEAD_SHARE) === 7;
    if (isDead) dead.add(index);
    lines.push(`127.0.0.1\t${isDead ? deadPort : hostPorts[index % hostPorts.length]}\n`);
  }
  const live = Array.from({ length: agents }, (_, index) => index).filter(
    (index) => !dead.has(index),
  );
  const directory = scratchDirectory('status');
  const proxy = await startProxyProcess(directory, lines.join(''), {
    cpus: '0',
    extraArgs: ['--health-interval', '3600', '--connector-limit', '4096'],
  });
  try {
    // The first probe round marks the dead entries.
    for (;;) {
      const status = (await get(proxy.url, '/status')).json;
      if (status.healthy_agents === live.length) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    log(`${agents} agents: warming up (one answer per entry)`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        while (next < live.length) {
          const index = live[next++] as number;
          const response = await request(`${proxy.url}/agent/${index}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: CHAT_BODY,
            dispatcher,
          });
          await response.body.dump();
        }
      }),
    );
    const probe = (await get(proxy.url, '/status?view=compact')).json;
    const compact = probe.view === 'compact';
    let since: string = compact ? probe.version : '';
    const compactPath = () => `/status?view=compact&since=${since}`;
    const timings = async () => {
      const result: Record<string, unknown> = {
        full: await serverTiming(proxy, () => '/status', REQUESTS),
      };
      if (compact) {
        result.compactFirst = await serverTiming(proxy, () => '/status?view=compact', REQUESTS);
        since = (await get(proxy.url, '/status?view=compact')).json.version;
        result.compactSince = await serverTiming(proxy, compactPath, REQUESTS);
        const all = (await get(proxy.url, '/status?view=compact')).json;
        result.allRowsBytes = Buffer.byteLength(JSON.stringify(all.rows));
      }
      return result;
    };
    log(`${agents} agents: idle`);
    const idle = {
      server: await timings(),
      polls: await pageLikePolls(proxy.url, compact),
      page: BROWSER ? await measurePage(proxy.url, agents, undefined) : SKIPPED,
    };
    log(`${agents} agents: under load (${LOAD_IN_FLIGHT} requests in flight)`);
    const load = startLoad(proxy.url, live, LOAD_IN_FLIGHT);
    try {
      const loaded = {
        server: await timings(),
        polls: await pageLikePolls(proxy.url, compact),
        page: BROWSER
          ? await measurePage(
              proxy.url,
              agents,
              agents === Math.max(...SIZES) ? values.screenshot : undefined,
            )
          : SKIPPED,
      };
      return { agents, dead: dead.size, compactForm: compact, idle, loaded, loadSent: load.sent() };
    } finally {
      await load.stop();
    }
  } finally {
    await proxy.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

try {
  const swarm = await startAgentsProcess(MOCK_AGENTS, { latencyMs: 300 }, '1');
  const results = [];
  for (const agents of SIZES) results.push(await measureSize(swarm.ports, agents));
  await swarm.stop();
  const path = writeResults('status-surfaces', {
    method: {
      sizes: SIZES,
      requests: REQUESTS,
      polls: POLLS,
      intervalMs: INTERVAL_MS,
      mockAgents: MOCK_AGENTS,
      deadShare: DEAD_SHARE,
      loadInFlight: LOAD_IN_FLIGHT,
      agentLatencyMs: 300,
    },
    results,
  });
  const cell = (value: unknown) => (value === undefined ? '-' : String(value));
  const rows: (string | number)[][] = [
    ['agents', 'state', 'form', 'bytes/poll', 'rows/poll', 'round trip p50', 'proxy CPU/req'],
  ];
  for (const result of results) {
    for (const state of ['idle', 'loaded'] as const) {
      const { server, polls } = result[state] as {
        server: Record<
          string,
          { bytes: number; roundTripMsP50: number; proxyCpuMsPerRequest: number }
        >;
        polls: Record<string, unknown>;
      };
      rows.push([
        result.agents,
        state,
        'full /status',
        cell(polls.fullBytesP50),
        '-',
        `${server.full?.roundTripMsP50} ms`,
        `${server.full?.proxyCpuMsPerRequest} ms`,
      ]);
      if (result.compactForm) {
        rows.push([
          result.agents,
          state,
          'compact, first',
          cell(server.compactFirst?.bytes),
          result.agents,
          `${server.compactFirst?.roundTripMsP50} ms`,
          `${server.compactFirst?.proxyCpuMsPerRequest} ms`,
        ]);
        rows.push([
          result.agents,
          state,
          'compact, since',
          `${cell(polls.compactBytesP50)} (max ${cell(polls.compactBytesMax)})`,
          `${cell(polls.compactRowsP50)} (max ${cell(polls.compactRowsMax)})`,
          `${server.compactSince?.roundTripMsP50} ms`,
          `${server.compactSince?.proxyCpuMsPerRequest} ms`,
        ]);
      }
    }
  }
  printTable(rows);
  for (const result of results) {
    for (const state of ['idle', 'loaded'] as const) {
      console.log(`page at ${result.agents}, ${state}:`, JSON.stringify(result[state].page));
    }
  }
  console.log(`wrote ${path}`);
} finally {
  await dispatcher.close();
  await stopAllChildren();
}
